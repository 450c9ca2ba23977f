// Same bridge as @statelyai/inspect's own server page: relay messages are posted into the
// Stately inspector iframe once it says it is connected (buffered until then).
const iframe = document.getElementById('inspector');
const status = document.getElementById('status');
const buffer = [];
let connected = false;
window.addEventListener('message', (e) => {
  if (e.origin !== 'https://stately.ai' || e.data?.type !== '@statelyai.connected') return;
  connected = true;
  for (const m of buffer.splice(0)) iframe.contentWindow.postMessage(m, 'https://stately.ai');
});
const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? sessionStorage.getItem('oxi.token');
function connect() {
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/stately${token ? `?token=${encodeURIComponent(token)}` : ''}`);
  ws.onopen = () => (status.textContent = 'relay connected');
  ws.onmessage = (ev) => {
    const data = JSON.parse(ev.data);
    if (connected) iframe.contentWindow.postMessage(data, 'https://stately.ai');
    else buffer.push(data);
  };
  ws.onclose = () => ((status.textContent = 'relay closed (is the engine running with --inspect?)'), setTimeout(connect, 2000));
}
connect();
