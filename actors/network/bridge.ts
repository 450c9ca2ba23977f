/**
 * The inside half of the allowlist network: a sandbox made with `--unshare-net` has only its own loopback, so
 * a tiny bridge (started by the sandbox's PID 1 before the agent) listens on 127.0.0.1:BRIDGE_PORT there and
 * carries each connection to the proxy's unix socket, bound into the sandbox at PROXY_MOUNT. The agent is
 * pointed at it by the usual proxy variables. The bridge is perl where the host has it (it starts in a few
 * milliseconds, where node takes a second on a loaded machine, and every launch waits for it), else node.
 */
import { spawnSync } from 'node:child_process';
export const PROXY_MOUNT = '/run/oxi-net';
/** Any port is free in a network namespace of its own. */
export const BRIDGE_PORT = 3128;

/** argv: socket path, port. Prints `ready` once listening (PID 1 waits for it). */
export const BRIDGE_JS = `const net=require('net');const [s,p]=process.argv.slice(1);net.createServer((c)=>{const u=net.connect(s);c.pipe(u);u.pipe(c);c.on('error',()=>u.destroy());u.on('error',()=>c.destroy());}).listen(Number(p),'127.0.0.1',()=>process.stdout.write('ready\\n'));`;

/** The same in perl: one forked process per connection, each direction half-closed on its own EOF. */
export const BRIDGE_PL = `use IO::Socket::INET;use IO::Socket::UNIX;use IO::Select;$SIG{CHLD}='IGNORE';my($s,$p)=@ARGV;my $l=IO::Socket::INET->new(LocalAddr=>'127.0.0.1',LocalPort=>$p,Listen=>128,ReuseAddr=>1)or die "bridge: $!\\n";$|=1;print "ready\\n";close STDOUT;while(1){my $c=$l->accept or next;my $k=fork;if(defined $k&&!$k){close $l;my $u=IO::Socket::UNIX->new(Peer=>$s)or exit 1;my %o=($c=>$u,$u=>$c);my $sel=IO::Select->new($c,$u);while($sel->count){for my $h($sel->can_read){my $n=sysread($h,my $b,65536);if(!$n){$sel->remove($h);shutdown($o{$h},1);next}my $w=0;while($w<$n){my $r=syswrite($o{$h},$b,$n-$w,$w);exit 0 unless defined $r;$w+=$r}}}exit 0}close $c}`;

export interface Bridge {
  /** The interpreter, by the path the sandbox sees it at. */
  program: string;
  script: string;
}

let chosen: Bridge | undefined;

/** perl with its socket modules if this machine has it (a system dir the sandbox binds), else this engine's node. */
export function localBridge(): Bridge {
  if (chosen) return chosen;
  const perl = spawnSync('/usr/bin/perl', ['-MIO::Socket::UNIX', '-MIO::Socket::INET', '-MIO::Select', '-e', '1'], { stdio: 'ignore', timeout: 20_000 });
  chosen = perl.status === 0 ? { program: '/usr/bin/perl', script: BRIDGE_PL } : { program: process.execPath, script: BRIDGE_JS };
  return chosen;
}

/**
 * PID 1 with a bridge: $1 the bridge's interpreter (`-e` runs a script in perl and node alike), $2 the bridge script, $3 the socket, $4 the port, then the agent's argv. The
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
