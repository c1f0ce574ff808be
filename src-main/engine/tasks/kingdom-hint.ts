// The kingdom a SignalP-style FASTA id (ACC|KINGDOM|TYPE|PARTITION) names in its second
// '|'-separated field: a hint for prediction, not a requirement. Pure (no Node imports): the
// renderer says which selected sequences carry one with the same rule the engine applies.
import { PREDICT_KINGDOMS } from '../../api/contract.js';

export type KingdomHint = Exclude<(typeof PREDICT_KINGDOMS)[number], 'unknown'>;

export function kingdomHintOf(id: string): KingdomHint | null {
  const f = id.split('|');
  if (f.length < 2) return null;
  const k = f[1].trim().toUpperCase();
  return k !== 'UNKNOWN' && (PREDICT_KINGDOMS as readonly string[]).includes(k) ? (k as KingdomHint) : null;
}
