// Execution providers in order of preference. onnxruntime does not fall back by itself when a
// provider fails to initialise (missing CUDA libraries, no WebGPU adapter), so each is tried in
// turn and every refusal is kept for the report the user sees.

import * as ort from 'onnxruntime-node';

export type ProviderName = 'cuda' | 'webgpu' | 'cpu';
export const PROVIDER_PREFERENCE: readonly ProviderName[] = ['cuda', 'webgpu', 'cpu'];

export interface ProviderAttempt {
  provider: ProviderName;
  error: string;
}

export interface ProviderReport {
  /** the provider the session runs on */
  provider: ProviderName;
  /** providers tried before it, with the reason each was refused */
  fallbacks: ProviderAttempt[];
}

/** Which providers this onnxruntime build knows (a known one may still fail to load). */
export function compiledProviders(): ProviderName[] {
  const names = ort.listSupportedBackends().map((b) => b.name);
  return PROVIDER_PREFERENCE.filter((p) => names.includes(p));
}

/** The preference list, always ending with cpu, with duplicates removed. */
export function providerOrder(requested?: readonly ProviderName[]): ProviderName[] {
  const list = requested && requested.length ? [...requested] : [...PROVIDER_PREFERENCE];
  if (!list.includes('cpu')) list.push('cpu');
  return [...new Set(list)];
}

export function describeReport(r: ProviderReport): string {
  const why = r.fallbacks.map((f) => `${f.provider} unavailable: ${f.error}`).join('; ');
  return why ? `running on ${r.provider} (${why})` : `running on ${r.provider}`;
}

/**
 * The useful part of an onnxruntime error: native messages carry source paths and lambda
 * signatures before the sentence that says what failed ("Failed to load shared library",
 * "Failed to get a WebGPU adapter: No supported adapters").
 */
export function shortError(e: unknown): string {
  const first = (e instanceof Error ? e.message : String(e)).split('\n')[0].replace(/^\[[^\]]*\]\s*/, '');
  const at = first.lastIndexOf('Failed to');
  return (at > 0 ? first.slice(at) : first).slice(0, 400);
}
