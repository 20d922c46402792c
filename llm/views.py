"""The Usage pages: tokens and cost over time and by provider, model, agent and workflow; the calls.

Views are thin: they parse the request, call `llm.usage` (which the JSON API shares) and render.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_htmx.http import push_url

from conductor_site.htmx import HtmxHttpRequest, render_page
from llm import usage
from llm.charts import usage_chart
from llm.forms import CallFilterForm, UsageFilterForm
from llm.models import CallStatus, LLMCall

BREAKDOWNS = (("provider", "Provider"), ("model", "Model"), ("agent", "Agent"), ("workflow", "Workflow"))
BREAKDOWN_ROWS = 10
PAGE_SIZE = 50


def _with_query(url: str, params: dict[str, str]) -> str:
    return f"{url}?{urlencode(params)}" if params else url


@require_GET
def usage_overview(request: HtmxHttpRequest) -> HttpResponse:
    form = UsageFilterForm(request.GET)
    form.is_valid()
    filters = form.usage_filters(now=timezone.now())
    hourly = form.hourly()
    series = usage.usage_series(bucket="hour" if hourly else "day", **filters)
    active = form.active()
    context = {
        "form": form,
        "period": form.chosen_period(),
        "active": active,
        # The series covers the same calls, so its sum is the totals: one scan of the ledger fewer.
        "totals": sum(series, usage.UsageTotals()),
        "chart": usage_chart([(p.bucket, p.total_tokens, p.cost_usd) for p in series], hourly=hourly),
        "breakdowns": [
            (key, title, usage.usage_grouped(group_by=key, limit=BREAKDOWN_ROWS, **filters))
            for key, title in BREAKDOWNS
        ],
        "calls_url": _with_query(
            reverse("call-list"), {k: v for k, v in active.items() if k in ("agent", "workflow", "provider", "model")}
        ),
    }
    response = render_page(request, "llm/usage.html", context, partial="results")
    if request.htmx:
        push_url(response, _with_query(reverse("usage"), active))
    return response


@require_GET
def call_list(request: HtmxHttpRequest) -> HttpResponse:
    form = CallFilterForm(request.GET)
    form.is_valid()
    active = form.active()
    cursor = request.GET.get("cursor") or None
    try:
        page = usage.call_page(filters=form.filters(), limit=PAGE_SIZE, cursor=cursor)
    except usage.InvalidUsageQuery as exc:
        if cursor:
            return redirect(_with_query(reverse("call-list"), active))
        form.add_error(None, str(exc))
        page = usage.CallPage(rows=[], next_cursor=None)
    list_url = _with_query(reverse("call-list"), active)
    context = {
        "form": form,
        "calls": page.rows,
        "filtered": bool(active),
        "statuses": CallStatus.choices,
        "next_url": _with_query(reverse("call-list"), {**active, "cursor": page.next_cursor})
        if page.next_cursor
        else None,
    }
    response = render_page(request, "llm/call_list.html", context, partial="rows" if cursor else "results")
    if request.htmx and not cursor:
        push_url(response, list_url)
    return response


@require_GET
def call_detail(request: HtmxHttpRequest, call_id: int) -> HttpResponse:
    call = LLMCall.objects.filter(pk=call_id).first()
    if call is None:
        raise Http404("No recorded call with this number.")
    return render(request, "llm/call_detail.html", {"call": call})
