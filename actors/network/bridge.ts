/**
 * The inside half of the allowlist network: a sandbox made with `--unshare-net` has only its own loopback, so
 * a tiny bridge (node, started by the sandbox's PID 1 before the agent) listens on 127.0.0.1:BRIDGE_PORT there
 * and carries each connection to the proxy's unix socket, bound into the sandbox at PROXY_MOUNT. The agent
 * is pointed at it by the usual proxy variables.
 */
export const PROXY_MOUNT = '/run/oxi-net';
/** Any port is free in a network namespace of its own. */
export const BRIDGE_PORT = 3128;

/** argv: socket path, port. Prints `ready` once listening (PID 1 waits for it). */
export const BRIDGE_JS = `const net=require('net');const [s,p]=process.argv.slice(1);net.createServer((c)=>{const u=net.connect(s);c.pipe(u);u.pipe(c);c.on('error',()=>u.destroy());u.on('error',()=>c.destroy());}).listen(Number(p),'127.0.0.1',()=>process.stdout.write('ready\\n'));`;

/**
 * PID 1 with a bridge: $1 node, $2 the bridge script, $3 the socket, $4 the port, then the agent's argv. The
 * agent starts only once the bridge listens; when PID 1 exits, the kernel ends the bridge with the rest.
 */
export const SANDBOX_INIT_WITH_BRIDGE = [
  'n=$1 b=$2 s=$3 p=$4; shift 4',
  'f=/tmp/.oxi-net-ready',
  'mkfifo "$f" || exit 125',
  '"$n" -e "$b" "$s" "$p" >"$f" &',
  'read -r ok <"$f"; rm -f "$f"',
  `[ "$ok" = ready ] || { echo "oxi: the sandbox's network bridge did not start (agents.network is allowlist)" >&2; exit 125; }`,
  '"$@" & wait $!',
].join('\n');

/** The variables that send the agent's HTTP(S) through the bridge: both spellings (curl reads only lower-case http_proxy). */
export function proxyEnv(port = BRIDGE_PORT): string[] {
  const url = `http://127.0.0.1:${port}`;
  return ['HTTPS_PROXY', 'HTTP_PROXY', 'ALL_PROXY', 'https_proxy', 'http_proxy', 'all_proxy'].map((k) => `${k}=${url}`);
}
