// The page's socket, opened the moment the page starts: index.html loads this module first (async, no
// imports), so the server builds the `hello` while the other modules still load. app.js takes the socket
// over with whatever arrived meanwhile; every reconnection after that opens a new one.

/** The tab's dashboard token: the URL fragment's (the first visit) or the one this tab kept. */
export function pageToken() {
  return new URLSearchParams(location.hash.slice(1)).get('token') || sessionStorage.getItem('oxi.token');
}

export function openSocket() {
  const t = pageToken();
  return new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws${t ? `?token=${encodeURIComponent(t)}` : ''}`);
}

let early = openSocket();
const backlog = [];
early.onmessage = (ev) => backlog.push(ev);

/** The socket opened at page start with the messages it already received, once; null afterwards. */
export function takeEarlySocket() {
  const ws = early;
  early = null;
  return ws && { ws, backlog };
}
