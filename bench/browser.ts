import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** The system's Chromium (Debian package `chromium`), or the one OXI_CHROMIUM points at: the same as the dashboard tests use. */
export const CHROMIUM = process.env.OXI_CHROMIUM ?? '/usr/bin/chromium';

/** Headless Chromium as root in a container: no sandbox, no GPU, no /dev/shm reliance. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`The dashboard figure needs Chromium at ${CHROMIUM}, found none. Install it (apt-get install -y chromium) or point OXI_CHROMIUM at one.`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}
