"""The mock provider's default answers: one realistic work product per artifact type, chosen from the prompt,
so a whole demo workflow (code → tests → test data → review → CI config → deployment → monitoring) looks real.
"""

from __future__ import annotations

import re

# Checked in this order: the first type whose pattern matches the prompt wins (so "test data" beats "test",
# and "review this deployment" is a review).
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (artifact_type, re.compile(pattern, re.IGNORECASE))
    for artifact_type, pattern in (
        ("review", r"\b(review\w*|critique|audit|feedback)\b"),
        ("test_data", r"\b(test[ _-]?data|fixtures?|sample data|seed data|mock data|csv)\b"),
        ("monitoring_report", r"\b(monitor\w*|metrics?|observability|incident|alert\w*|uptime|slo|health report)\b"),
        ("deployment", r"\b(deploy\w*|kubernetes|k8s|manifest|helm|rollout|release to)\b"),
        ("config", r"\b(ci|cd|pipeline|github actions|workflow file|config\w*|yaml|settings)\b"),
        ("test", r"\b(tests?|pytest|unit[ -]?tests?|testing|test cases?|coverage)\b"),
        ("code", r"\b(code|implement\w*|function|class|module|script|program|refactor|write|build|fix)\b"),
    )
)


def classify_prompt(prompt: str) -> str | None:
    """The artifact type a prompt asks for, or None if it does not look like any."""
    for artifact_type, pattern in _PATTERNS:
        if pattern.search(prompt):
            return artifact_type
    return None


def default_response(prompt: str, *, system: str | None = None) -> tuple[str, str | None]:
    """(content, artifact type) that fits the request: the system prompt (the role) decides first, so
    earlier work products quoted in the user prompt do not change what an agent gets back."""
    artifact_type = (system and classify_prompt(system)) or classify_prompt(prompt)
    if artifact_type is None:
        return GENERIC, None
    return RESPONSES[artifact_type], artifact_type


CODE = '''\
```python
"""Order totals with discounts and tax."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class LineItem:
    sku: str
    quantity: int
    unit_price: Decimal


def order_total(
    items: list[LineItem], *, discount_percent: Decimal = Decimal(0), tax_rate: Decimal = Decimal(0)
) -> Decimal:
    """The amount to charge: subtotal, minus the discount, plus tax, rounded to cents."""
    if not 0 <= discount_percent <= 100:
        raise ValueError(f"discount_percent must be between 0 and 100, not {discount_percent}")
    subtotal = sum((item.unit_price * item.quantity for item in items), Decimal(0))
    discounted = subtotal * (1 - discount_percent / 100)
    return (discounted * (1 + tax_rate)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
```
'''

TEST = '''\
```python
"""Tests for order_total."""

from decimal import Decimal

import pytest

from orders import LineItem, order_total


@pytest.fixture
def items() -> list[LineItem]:
    return [LineItem("A-1", 2, Decimal("10.00")), LineItem("B-2", 1, Decimal("5.50"))]


def test_it_sums_line_items(items):
    assert order_total(items) == Decimal("25.50")


def test_it_applies_the_discount_before_tax(items):
    assert order_total(items, discount_percent=Decimal(10), tax_rate=Decimal("0.2")) == Decimal("27.54")


def test_an_empty_order_costs_nothing():
    assert order_total([]) == Decimal("0.00")


@pytest.mark.parametrize("discount", [Decimal(-1), Decimal(101)])
def test_it_rejects_impossible_discounts(items, discount):
    with pytest.raises(ValueError, match="discount_percent"):
        order_total(items, discount_percent=discount)
```
'''

TEST_DATA = """\
`fixtures/orders.json`:
```json
[
  {
    "order_id": "ord-1001",
    "customer": "ada@example.com",
    "items": [{"sku": "A-1", "quantity": 2, "unit_price": "10.00"}],
    "discount_percent": "0",
    "expected_total": "20.00"
  },
  {
    "order_id": "ord-1002",
    "customer": "grace@example.com",
    "items": [{"sku": "B-2", "quantity": 1, "unit_price": "5.50"}],
    "discount_percent": "10",
    "expected_total": "4.95"
  },
  {
    "order_id": "ord-1003",
    "customer": "linus@example.com",
    "items": [],
    "discount_percent": "0",
    "expected_total": "0.00"
  }
]
```

`fixtures/line_items.csv`:
```csv
sku,quantity,unit_price,description
A-1,2,10.00,Widget
B-2,1,5.50,Gadget
C-3,10,0.99,Sprocket (bulk)
D-4,0,12.00,Out of stock item (edge case: zero quantity)
```
"""

REVIEW = """\
## Code review: order totals

**Verdict:** approve with minor changes.

### What works
- Money is `Decimal` throughout and rounded once, at the end, with ROUND_HALF_UP.
- The discount is validated with a message that names the allowed range.
- Tests cover the empty order and both discount bounds.

### Issues
1. **Medium — tax on discounted amount is implicit.** Document that tax applies after the discount;
   some jurisdictions require the opposite.
2. **Low — negative quantities are accepted.** `LineItem(quantity=-1)` lowers the total; validate in
   `__post_init__`.
3. **Low — missing test for rounding at exactly half a cent.**

### Security
No input reaches SQL, the shell or templates. Nothing to flag.

**Score:** 8/10
"""

CONFIG = """\
```yaml
# .github/workflows/ci.yml
name: CI

on:
  push:
    branches: [main]
  pull_request:

jobs:
  test:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        python-version: ["3.12", "3.13"]
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: ${{ matrix.python-version }}
          cache: pip
      - run: pip install -r requirements.txt
      - run: ruff check . && ruff format --check .
      - run: pytest -q --maxfail=1
```
"""

DEPLOYMENT = """\
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: orders-api
  labels: {app: orders-api}
spec:
  replicas: 3
  selector:
    matchLabels: {app: orders-api}
  strategy:
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  template:
    metadata:
      labels: {app: orders-api}
    spec:
      containers:
        - name: orders-api
          image: registry.example.com/orders-api:1.4.2
          ports: [{containerPort: 8000}]
          env:
            - name: DATABASE_URL
              valueFrom: {secretKeyRef: {name: orders-db, key: url}}
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {cpu: 500m, memory: 256Mi}
          readinessProbe:
            httpGet: {path: /health/, port: 8000}
          livenessProbe:
            httpGet: {path: /health/, port: 8000}
            initialDelaySeconds: 10
---
apiVersion: v1
kind: Service
metadata:
  name: orders-api
spec:
  selector: {app: orders-api}
  ports: [{port: 80, targetPort: 8000}]
```
"""

MONITORING_REPORT = """\
# Monitoring report: orders-api (last 24 h)

| metric | value | target | status |
| --- | --- | --- | --- |
| availability | 99.97 % | ≥ 99.9 % | OK |
| p95 latency | 182 ms | ≤ 250 ms | OK |
| p99 latency | 611 ms | ≤ 500 ms | WARN |
| error rate (5xx) | 0.04 % | ≤ 0.1 % | OK |
| pod restarts | 2 | 0 | WARN |

## Findings
- p99 latency rose after the 14:05 rollout of 1.4.2; slow queries on `orders.list` (missing index on
  `customer_id`).
- Two restarts of `orders-api-7c9d` were OOM kills at the 256Mi limit during the nightly export.

## Recommended actions
1. Add an index on `orders(customer_id, created_at)`.
2. Raise the memory limit to 384Mi or stream the export.
3. Alert when p99 > 500 ms for 10 minutes.
"""

GENERIC = "This is a mock response from Conductor's MockLLMProvider. Queue a response to control what it says."

RESPONSES: dict[str, str] = {
    "code": CODE,
    "test": TEST,
    "test_data": TEST_DATA,
    "review": REVIEW,
    "config": CONFIG,
    "deployment": DEPLOYMENT,
    "monitoring_report": MONITORING_REPORT,
}
