// The README.md of an exported adapter folder: which PEFT releases load it, how to load it in
// Python, what the labels are, and how to use what Hugging Face cannot hold (head.safetensors).
import { KINGDOMS } from '../data/signalp.js';
import type { ExportInput } from './hf-peft.js';

export function adapterReadme(x: ExportInput, c: Record<string, unknown>, minimum: string, headTensors: string[], labels: string[] | null): string {
  const classifier = c.task_type === 'TOKEN_CLS';
  const C = x.params.get('head.weight')?.shape[0];
  const lines = [
    `# ${c.peft_type} adapter for ${x.baseModel} (exported by plm-workbench)`,
    '',
    `Task: ${x.task}. PEFT method: ${c.peft_type}${c.use_dora ? ' with DoRA' : ''}. Base model: \`${x.baseModel}\`.`,
    '',
    `Loads with Hugging Face PEFT ${minimum} and later; the config holds only fields of PEFT 0.7.1, 0.10.0 and 0.14.0${minimum !== '0.7.1' ? ` (those it needs exist from ${minimum} on)` : ''}.`,
    '',
    '```python',
    classifier ? 'from transformers import EsmForTokenClassification' : 'from transformers import EsmModel',
    'from peft import PeftModel',
    classifier
      ? `base = EsmForTokenClassification.from_pretrained(${JSON.stringify(x.baseModel)}, num_labels=${C})`
      : `base = EsmModel.from_pretrained(${JSON.stringify(x.baseModel)}, add_pooling_layer=False)`,
    'model = PeftModel.from_pretrained(base, "<this folder>").eval()',
    classifier ? 'logits = model(input_ids).logits  # [batch, len+2, labels], rows <cls>, residues, <eos>' : 'hidden = model(input_ids).last_hidden_state  # [batch, len+2, d]',
    '```',
    '',
  ];
  if (c.peft_type === 'PROMPT_TUNING') {
    lines.push(
      'Prompt tuning: the soft prompt rows come before `<cls>`. ESM-2 rescales token embeddings (token dropout) from `input_ids`,',
      "which PEFT's prompt-tuning forward does not pass; to reproduce the workbench, multiply the token embeddings of `<cls>`, residues",
      'and `<eos>` by 0.88 (= 1 - 0.15 x 0.8, no `<mask>` tokens), switch token dropout off, prepend the prompt rows unscaled and',
      'call the model with `inputs_embeds`; drop the first rows (one per virtual token) to get the per-token outputs.',
      '',
    );
  }
  if (labels) lines.push(`Labels, in the classifier's output order: ${labels.join(' ')}.`, '');
  if (classifier && x.head?.name === 'crf') {
    lines.push(
      'Signal peptides: the classifier gives the 37 CRF emission scores per residue (first 70 residues are read).',
      `head.safetensors holds what Hugging Face cannot: ${headTensors.join(', ')}.`,
      `- head.kingdom [4, 37] (when present): a bias added to every residue's emissions, one row per kingdom in the order ${KINGDOMS.join(', ')} (no row for an unknown kingdom).`,
      "- head.crf.transitions / start / end: SignalP 6.0's constrained linear-chain CRF (one score per allowed transition, per allowed start state, per end state), decoded by plm-workbench (`plmw predict`).",
      '',
    );
  } else if (!classifier && headTensors.length) {
    lines.push(
      `head.safetensors holds the task head, which has no Hugging Face class: ${headTensors.join(', ')}.`,
      x.head?.name === 'cnn'
        ? "CNN head: zero the <cls>, <eos> and padding rows of last_hidden_state, Conv1d over the residue axis (head.conv.weight [channels, d, k], head.conv.bias, 'same' zero padding), ReLU, then a Linear per residue (head.weight, head.bias) to the label scores."
        : 'Apply it to last_hidden_state.',
      '',
    );
  } else if (!classifier) {
    lines.push('No task head: a fine-tuned backbone (use last_hidden_state).', '');
  }
  lines.push('Files: adapter_config.json and adapter_model.safetensors (PEFT), head.safetensors (task and head tensors for plm-workbench), this README.', '');
  return lines.join('\n');
}
