/**
 * The checks `oxi doctor` runs, in order. To add checks (e.g. the SSH transport's host checks),
 * add a CheckProvider here; a provider that checks ssh hosts replaces `sshHostsNotChecked`.
 */
import { agentChecks } from './agents.js';
import { forgeChecks } from './forge.js';
import { localHostChecks, sshHostsNotChecked } from './local-hosts.js';
import { notificationChecks } from './notifications.js';
import { configCheck, projectChecks } from './project.js';
import { toolchainChecks } from './toolchain.js';
import type { CheckProvider } from './types.js';

export const DOCTOR_PROVIDERS: readonly CheckProvider[] = [
  toolchainChecks,
  configCheck,
  projectChecks,
  localHostChecks,
  sshHostsNotChecked,
  agentChecks,
  forgeChecks,
  notificationChecks,
];
