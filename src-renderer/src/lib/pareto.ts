// The Pareto front of points where x is a cost (lower is better) and y a score (higher is
// better): a point is on the front when no other point has x <= its x and y >= its y with one
// of them strictly better. Returned sorted by x.
export interface ParetoPoint {
  x: number;
  y: number;
}

export function paretoFront<P extends ParetoPoint>(points: readonly P[]): P[] {
  const valid = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const sorted = [...valid].sort((a, b) => a.x - b.x || b.y - a.y);
  const front: P[] = [];
  let best = -Infinity;
  for (const p of sorted) {
    if (p.y > best) {
      front.push(p);
      best = p.y;
    }
  }
  return front;
}
