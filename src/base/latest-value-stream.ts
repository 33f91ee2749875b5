import { BufferedStream } from './buffered-stream.ts';

/**
 * An async iterable that holds at most one undelivered value: a slow consumer gets the newest state, never
 * a growing backlog. Ends on close() or when the consumer stops (return()).
 */
export class LatestValueStream<T> extends BufferedStream<T> {
  constructor(onClose: () => void = () => {}) {
    super(onClose, 1);
  }
}
