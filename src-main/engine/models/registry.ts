// The ESM-2 model registry (models/registry.json): which checkpoints the workbench knows how to
// fetch, where they live on the Hugging Face Hub, and how big they are. The JSON is imported (not
// read from disk at run time) so it travels inside bundled builds of the main process.
import registryJson from '../../../models/registry.json' with { type: 'json' };

export interface ModelSpec {
  /** local name, also the directory name under the store's models/ */
  name: string;
  /** Hugging Face repository id */
  repo: string;
  /** branch, tag or commit to download */
  revision: string;
  layers: number;
  hiddenSize: number;
  heads: number;
  intermediateSize: number;
  vocabSize: number;
  /** learned parameters (computed from the shapes; see models/README.md) */
  parameters: number;
  /** approximate size of model.safetensors in bytes (float32 tensors + header) */
  approxDownloadBytes: number;
  /** files that must be downloaded */
  files: string[];
  /** files fetched when the repository has them */
  optionalFiles: string[];
  configSource: string;
}

interface RegistryFile {
  files: string[];
  optionalFiles: string[];
  models: Omit<ModelSpec, 'files' | 'optionalFiles'>[];
}

const reg = registryJson as RegistryFile;

export const MODEL_REGISTRY: readonly ModelSpec[] = Object.freeze(
  reg.models.map((m) => Object.freeze({ ...m, files: [...reg.files], optionalFiles: [...reg.optionalFiles] })),
);

export function listRegistryModels(): readonly ModelSpec[] {
  return MODEL_REGISTRY;
}

/** Look a model up by its name (`esm2_t6_8M_UR50D`) or repository id (`facebook/esm2_t6_8M_UR50D`). */
export function findModelSpec(nameOrRepo: string): ModelSpec | undefined {
  return MODEL_REGISTRY.find((m) => m.name === nameOrRepo || m.repo === nameOrRepo);
}

export function getModelSpec(nameOrRepo: string): ModelSpec {
  const m = findModelSpec(nameOrRepo);
  if (!m) throw new Error(`unknown model '${nameOrRepo}'; known: ${MODEL_REGISTRY.map((x) => x.name).join(', ')}`);
  return m;
}
