"""Keep llm_llmusagehourly exact with a trigger on llm_llmcall.

Inserts (the hot path) add to their hour's row with one upsert. Updates and deletes are rare: they
recompute the affected hour rows from the raw calls. `llm_usage_hourly_rebuild(since, until)`
recomputes a whole range (after a bulk load with triggers off, or to repair drift).
"""

from django.db import migrations

# The sums one rollup row holds, over a set of llm_llmcall rows `c`. Kept in one place so the
# trigger's recompute and the rebuild agree with the insert path below.
AGGREGATES = """
    count(*),
    count(*) FILTER (WHERE c.status = 'error'),
    count(*) FILTER (WHERE c.status = 'cached'),
    count(*) FILTER (WHERE c.status <> 'cached' AND c.cost_usd IS NULL),
    coalesce(sum(c.prompt_tokens) FILTER (WHERE c.status <> 'cached'), 0),
    coalesce(sum(c.completion_tokens) FILTER (WHERE c.status <> 'cached'), 0),
    coalesce(sum(c.total_tokens) FILTER (WHERE c.status <> 'cached'), 0),
    coalesce(sum(c.cache_read_tokens) FILTER (WHERE c.status <> 'cached'), 0),
    coalesce(sum(c.cache_write_tokens) FILTER (WHERE c.status <> 'cached'), 0),
    coalesce(sum(c.cost_usd) FILTER (WHERE c.status <> 'cached'), 0),
    coalesce(sum(c.saved_usd) FILTER (WHERE c.status = 'cached'), 0),
    min(c.created_at),
    max(c.created_at)
"""

COLUMNS = """
    hour, config_name, provider, model, agent_id, workflow_id,
    calls, error_calls, cached_calls, unknown_cost_calls,
    prompt_tokens, completion_tokens, total_tokens, cache_read_tokens, cache_write_tokens,
    cost_usd, saved_usd, first_call_at, last_call_at
"""

FORWARD = f"""
CREATE FUNCTION llm_usage_hourly_recompute(
    h timestamptz, cfg text, prov text, mdl text, agent text, wf text
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM llm_llmusagehourly u
     WHERE u.hour = h AND u.config_name = cfg AND u.provider = prov AND u.model = mdl
       AND u.agent_id = agent AND u.workflow_id = wf;
    INSERT INTO llm_llmusagehourly ({COLUMNS})
    SELECT h, cfg, prov, mdl, agent, wf, {AGGREGATES}
      FROM llm_llmcall c
     WHERE c.created_at >= h AND c.created_at < h + interval '1 hour'
       AND c.config_name = cfg AND c.provider = prov AND c.model = mdl
       AND c.agent_id = agent AND c.workflow_id = wf
    HAVING count(*) > 0;
END $$;

CREATE FUNCTION llm_usage_hourly_rebuild(since timestamptz, until timestamptz) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    written bigint;
BEGIN
    DELETE FROM llm_llmusagehourly u
     WHERE u.hour >= date_trunc('hour', since, 'UTC') AND u.hour < until;
    INSERT INTO llm_llmusagehourly ({COLUMNS})
    SELECT date_trunc('hour', c.created_at, 'UTC'), c.config_name, c.provider, c.model, c.agent_id, c.workflow_id,
           {AGGREGATES}
      FROM llm_llmcall c
     WHERE c.created_at >= date_trunc('hour', since, 'UTC') AND c.created_at < until
     GROUP BY 1, 2, 3, 4, 5, 6;
    GET DIAGNOSTICS written = ROW_COUNT;
    RETURN written;
END $$;

CREATE FUNCTION llm_usage_hourly_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO llm_llmusagehourly ({COLUMNS})
        SELECT date_trunc('hour', c.created_at, 'UTC'), c.config_name, c.provider, c.model, c.agent_id, c.workflow_id,
               {AGGREGATES}
          FROM (SELECT NEW.*) c
         GROUP BY 1, 2, 3, 4, 5, 6
        ON CONFLICT (hour, config_name, provider, model, agent_id, workflow_id) DO UPDATE SET
            calls = llm_llmusagehourly.calls + EXCLUDED.calls,
            error_calls = llm_llmusagehourly.error_calls + EXCLUDED.error_calls,
            cached_calls = llm_llmusagehourly.cached_calls + EXCLUDED.cached_calls,
            unknown_cost_calls = llm_llmusagehourly.unknown_cost_calls + EXCLUDED.unknown_cost_calls,
            prompt_tokens = llm_llmusagehourly.prompt_tokens + EXCLUDED.prompt_tokens,
            completion_tokens = llm_llmusagehourly.completion_tokens + EXCLUDED.completion_tokens,
            total_tokens = llm_llmusagehourly.total_tokens + EXCLUDED.total_tokens,
            cache_read_tokens = llm_llmusagehourly.cache_read_tokens + EXCLUDED.cache_read_tokens,
            cache_write_tokens = llm_llmusagehourly.cache_write_tokens + EXCLUDED.cache_write_tokens,
            cost_usd = llm_llmusagehourly.cost_usd + EXCLUDED.cost_usd,
            saved_usd = llm_llmusagehourly.saved_usd + EXCLUDED.saved_usd,
            first_call_at = least(llm_llmusagehourly.first_call_at, EXCLUDED.first_call_at),
            last_call_at = greatest(llm_llmusagehourly.last_call_at, EXCLUDED.last_call_at);
        RETURN NULL;
    END IF;
    PERFORM llm_usage_hourly_recompute(date_trunc('hour', OLD.created_at, 'UTC'), OLD.config_name, OLD.provider,
                                       OLD.model, OLD.agent_id, OLD.workflow_id);
    IF TG_OP = 'UPDATE' THEN
        PERFORM llm_usage_hourly_recompute(date_trunc('hour', NEW.created_at, 'UTC'), NEW.config_name, NEW.provider,
                                           NEW.model, NEW.agent_id, NEW.workflow_id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER llm_usage_hourly AFTER INSERT OR UPDATE OR DELETE ON llm_llmcall
    FOR EACH ROW EXECUTE FUNCTION llm_usage_hourly_apply();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS llm_usage_hourly ON llm_llmcall;
DROP FUNCTION IF EXISTS llm_usage_hourly_apply();
DROP FUNCTION IF EXISTS llm_usage_hourly_rebuild(timestamptz, timestamptz);
DROP FUNCTION IF EXISTS llm_usage_hourly_recompute(timestamptz, text, text, text, text, text);
"""


class Migration(migrations.Migration):
    dependencies = [("llm", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
