/**
 * The checks `oxi doctor` runs, in order. To add checks (e.g. the SSH transport's host checks),
 * add a CheckProvider here; `sshHostChecks` covers the SSH hosts.
 */
import { agentChecks } from './agents.js';
import { forgeChecks } from './forge.js';
import { inferenceChecks } from './inference.js';
import { liveAgentChecks } from './live.js';
import { localHostChecks } from './local-hosts.js';
import { notificationChecks } from './notifications.js';
import { configCheck, projectChecks } from './project.js';
import { phaseChecks } from './phases.js';
import { roadmapSourceChecks } from './roadmap-source.js';
import { sandboxChecks } from './sandbox.js';
import { sshHostChecks } from './ssh-hosts.js';
import { toolchainChecks } from './toolchain.js';
import type { CheckProvider } from './types.js';

export const DOCTOR_PROVIDERS: readonly CheckProvider[] = [
  toolchainChecks,
  configCheck,
  roadmapSourceChecks,
  projectChecks,
  localHostChecks,
  sshHostChecks,
  agentChecks,
  liveAgentChecks,
  inferenceChecks,
  sandboxChecks,
  phaseChecks,
  forgeChecks,
  notificationChecks,
];
