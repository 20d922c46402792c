// The playground: one server-sent-event stream per selected provider config, all at once, each into its
// own column. Stop aborts the requests; the server then closes each provider stream, and the ledger
// records those calls as cancelled with the tokens they used. Text goes in with textContent/append,
// never as HTML. Without this script the form posts and the server renders the finished columns.
(() => {
  const form = document.getElementById("playground-form");
  if (!form) return;
  const columns = document.getElementById("columns");
  const template = document.getElementById("column-template");
  const runButton = document.getElementById("run-button");
  const stopButton = document.getElementById("stop-button");
  let runs = [];

  const ms = (value) => (value == null ? "—" : value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value} ms`);

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const configs = [...form.querySelectorAll("input[name=configs]:checked")].map((input) => input.value);
    if (!configs.length) {
      alertInForm("Choose at least one provider config.");
      return;
    }
    alertInForm("");
    const runId = `run-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    columns.replaceChildren();
    runs = configs.map((config) => startColumn(config, runId));
    runButton.disabled = true;
    stopButton.disabled = false;
    Promise.allSettled(runs.map((run) => run.finished)).then(() => {
      runButton.disabled = false;
      stopButton.disabled = true;
    });
  });

  stopButton.addEventListener("click", () => runs.forEach((run) => run.controller.abort()));

  function alertInForm(message) {
    let line = form.querySelector(".form-alert");
    if (!line) {
      line = document.createElement("p");
      line.className = "error form-alert";
      line.setAttribute("role", "alert");
      form.querySelector(".run-actions").before(line);
    }
    line.textContent = message;
    line.hidden = !message;
  }

  function startColumn(config, runId) {
    const column = template.content.firstElementChild.cloneNode(true);
    column.dataset.config = config;
    column.querySelector(".column-title").textContent = config;
    columns.append(column);
    htmx.process(column);
    const controller = new AbortController();
    return { controller, finished: stream(column, config, runId, controller.signal) };
  }

  async function stream(column, config, runId, signal) {
    const body = new FormData(form);
    body.delete("configs");
    body.set("config", config);
    body.set("run", runId);
    try {
      const response = await fetch(form.dataset.streamUrl, {
        method: "POST", body, signal, headers: { Accept: "text/event-stream" },
      });
      if (!(response.headers.get("Content-Type") || "").startsWith("text/event-stream")) {
        fail(column, await refusal(response));
        return;
      }
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replaceAll("\r\n", "\n");
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          handle(column, buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
      if (!["done", "error"].includes(column.dataset.state)) {
        fail(column, { title: "Connection lost", message: "The stream ended before the run finished." });
      }
    } catch (error) {
      if (signal.aborted) stopped(column, runId);
      else fail(column, { title: "Connection lost", message: error.message });
    }
  }

  async function refusal(response) {
    if (response.status === 400 && (response.headers.get("Content-Type") || "").startsWith("application/json")) {
      const { errors } = await response.json();
      const message = Object.entries(errors)
        .map(([field, messages]) => (field === "__all__" ? "" : `${field}: `) + messages.join(" "))
        .join(" ");
      return { title: "Not run", message };
    }
    if (response.redirected && new URL(response.url).pathname.startsWith("/login")) {
      return { title: "Signed out", message: "Your session has ended; reload the page and log in." };
    }
    return { title: "Not run", message: `The server answered ${response.status} ${response.statusText}.` };
  }

  function handle(column, block) {
    let name = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) name = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (!data.length) return;
    const payload = JSON.parse(data.join("\n"));
    if (name === "start") {
      setState(column, "streaming", "streaming…");
      column.querySelector(".column-model").textContent = `${payload.provider}/${payload.model}`;
      const save = column.querySelector(".save-form");
      save.elements.workflow.value = payload.workflow_id;
      save.elements.task.value = payload.task_id;
    } else if (name === "chunk") {
      column.querySelector(".output").append(payload.text);
    } else if (name === "done") {
      setState(column, "done", "done");
      showStats(column, payload);
      const save = column.querySelector(".save-form");
      if (payload.call_id && column.querySelector(".output").textContent) {
        save.elements.call_id.value = payload.call_id;
        save.hidden = false;
      }
      showDiff(column, payload.call_id);
    } else if (name === "error") {
      fail(column, payload);
      if (payload.call_id) showStats(column, payload);
    }
  }

  function setState(column, state, label) {
    column.dataset.state = state;
    column.querySelector(".column-state").textContent = label;
  }

  function fail(column, { title, message, error_class: errorClass }) {
    setState(column, "error", "failed");
    const box = column.querySelector(".column-error");
    box.querySelector(".error-title").textContent = title;
    box.querySelector(".error-message").textContent = message;
    box.querySelector(".error-class").textContent = errorClass || "";
    box.hidden = false;
  }

  function stopped(column, runId) {
    if (["done", "error"].includes(column.dataset.state)) return;
    setState(column, "stopped", "stopped");
    const note = column.querySelector(".column-note");
    note.textContent = "Stopped. The call is recorded as cancelled, with the tokens it used: ";
    const link = document.createElement("a");
    link.href = `${form.dataset.callsUrl}?${new URLSearchParams({ agent: "playground", task: runId })}`;
    link.textContent = "see the run's calls";
    note.append(link, ".");
    note.hidden = false;
  }

  function showStats(column, payload) {
    const stat = (name) => column.querySelector(`[data-stat=${name}]`);
    stat("tokens").textContent = `${payload.usage.prompt_tokens} in + ${payload.usage.completion_tokens} out`;
    stat("cost").textContent = payload.cost_display;
    stat("latency").textContent = ms(payload.latency_ms);
    stat("ttft").textContent = ms(payload.time_to_first_token_ms);
    const call = stat("call");
    call.textContent = payload.call_id ? `#${payload.call_id}` : "not recorded";
    if (payload.call_url) call.href = payload.call_url;
    column.querySelector(".column-stats").hidden = false;
  }

  function showDiff(column, callId) {
    const artifact = form.elements.replay.value;
    if (!artifact || !callId) return;
    const target = column.querySelector(".diff");
    target.hidden = false;
    htmx.ajax("GET", `${form.dataset.diffUrl}?${new URLSearchParams({ artifact, call: callId })}`, {
      target, swap: "innerHTML",
    });
  }

  // Fragments that answer 400/404 carry a message for the column: show them rather than drop them.
  document.body.addEventListener("htmx:beforeSwap", (event) => {
    const status = event.detail.xhr.status;
    if (status >= 400 && status < 500 && event.target.closest(".column")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
