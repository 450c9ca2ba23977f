import { join } from 'node:path';
import { FakeGitHub, type FakeGitHubOptions } from './fake-github.js';
import { gitSync } from './git-repo.js';

export const OWNER = 'acme';
export const REPO = 'widgets';
export const TOKEN = 'fake-token-for-tests';

/**
 * Makes a bare clone of `mainClone` (the "GitHub" side of the repository), sets it as the main clone's
 * `origin`, and starts a fake GitHub API over it.
 */
export async function attachFakeGitHub(mainClone: string, scratch: string, options: Partial<FakeGitHubOptions> = {}): Promise<FakeGitHub> {
  const bare = join(scratch, 'github.git');
  gitSync(scratch, ['clone', '-q', '--bare', mainClone, bare]);
  gitSync(mainClone, ['remote', 'add', 'origin', bare]);
  gitSync(mainClone, ['fetch', '-q', 'origin']);
  return new FakeGitHub({ owner: OWNER, repo: REPO, bare, token: TOKEN, ...options }).start();
}
