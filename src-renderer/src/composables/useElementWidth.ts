// The rendered width of an element, kept current with a ResizeObserver, so charts can lay out
// their scales for the space they actually get. Sub-pixel jitter (1 px or less) is ignored.
import { type Ref, onBeforeUnmount, onMounted, ref } from 'vue';

export function useElementWidth(root: Ref<HTMLElement | null>, initial: number): Ref<number> {
  const width = ref(initial);
  let observer: ResizeObserver | null = null;
  onMounted(() => {
    observer = new ResizeObserver((entries) => {
      const w = Math.floor(entries[0].contentRect.width);
      if (w > 0 && Math.abs(w - width.value) > 1) width.value = w;
    });
    if (root.value) observer.observe(root.value);
  });
  onBeforeUnmount(() => observer?.disconnect());
  return width;
}
