// The task view's message box: tells the selected task's live agent something (POST /api/v1/tasks/:id/say, the
// same delivery as `oxi say`). Self-contained: it follows the actor picker and uses the tab's dashboard token.
const picker = () => document.getElementById('actor-select');
const selectedTask = () => (picker()?.value.startsWith('task:') ? picker().value.slice('task:'.length) : null);

function build() {
  const form = document.createElement('form');
  form.className = 'say-box';
  form.setAttribute('data-testid', 'say-box');
  form.hidden = true;
  const label = document.createElement('label');
  label.textContent = 'Tell its agent ';
  const input = document.createElement('input');
  input.type = 'text';
  input.maxLength = 20000;
  input.placeholder = 'a message: it reaches the agent when its turn ends';
  input.setAttribute('data-testid', 'say-input');
  label.append(input);
  const send = document.createElement('button');
  send.type = 'submit';
  send.textContent = 'send';
  send.setAttribute('data-testid', 'say-send');
  const status = document.createElement('span');
  status.className = 'muted';
  status.setAttribute('data-testid', 'say-status');
  status.setAttribute('role', 'status');
  form.append(label, send, status);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const task = selectedTask();
    if (!task || !input.value.trim()) return;
    const headers = { 'content-type': 'application/json' };
    const token = sessionStorage.getItem('oxi.token');
    if (token) headers.authorization = `Bearer ${token}`;
    send.disabled = true;
    try {
      const res = await fetch(`/api/v1/tasks/${encodeURIComponent(task)}/say`, { method: 'POST', headers, body: JSON.stringify({ message: input.value }) });
      const out = await res.json().catch(() => ({}));
      if (res.ok) {
        status.textContent = `queued for ${task} (message ${out.message}): it reaches the agent when its turn ends`;
        input.value = '';
      } else status.textContent = `not sent (${res.status}): ${out.error ?? res.statusText}${out.fix ? ` — ${out.fix}` : ''}`;
    } catch (error) {
      status.textContent = `not sent: ${error.message}`;
    } finally {
      send.disabled = false;
    }
  });
  return form;
}

function mount() {
  const head = document.querySelector('.detail .detail-head');
  if (!head || !picker()) return;
  const form = build();
  head.after(form);
  let shown = null;
  // The picker is also set by clicks on task rows (no change event): follow its value.
  const follow = () => {
    const task = selectedTask();
    if (task === shown) return;
    shown = task;
    form.hidden = !task;
    form.querySelector('[data-testid=say-status]').textContent = '';
  };
  picker().addEventListener('change', follow);
  setInterval(follow, 300);
  follow();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', mount);
else mount();
