import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { watchIdleBody } from '../../src/oss/idle-watchdog';

/** The parts of an upstream body the watchdog reads, set by each test. */
function fakeBody(state: { bytesRead: number; readableLength: number; complete: boolean }): IncomingMessage {
  const body = new EventEmitter();
  Object.defineProperties(body, {
    socket: { get: () => ({ bytesRead: state.bytesRead }) },
    readableLength: { get: () => state.readableLength },
    complete: { get: () => state.complete },
  });
  return body as unknown as IncomingMessage;
}

describe('watchIdleBody', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('calls a body that receives nothing and holds nothing stalled after the idle time', () => {
    const onStall = jest.fn();
    watchIdleBody(fakeBody({ bytesRead: 10, readableLength: 0, complete: false }), 1000, onStall);
    jest.advanceTimersByTime(900);
    expect(onStall).not.toHaveBeenCalled();
    jest.advanceTimersByTime(700);
    expect(onStall).toHaveBeenCalledTimes(1);
  });

  it('leaves alone a body that holds unread bytes: the caller is slow, not OSS', () => {
    const onStall = jest.fn();
    watchIdleBody(fakeBody({ bytesRead: 10, readableLength: 16_384, complete: false }), 1000, onStall);
    jest.advanceTimersByTime(10_000);
    expect(onStall).not.toHaveBeenCalled();
  });

  it('leaves alone a body OSS sent whole, paused before its end was read', () => {
    const onStall = jest.fn();
    watchIdleBody(fakeBody({ bytesRead: 10, readableLength: 0, complete: true }), 1000, onStall);
    jest.advanceTimersByTime(10_000);
    expect(onStall).not.toHaveBeenCalled();
  });

  it('restarts the clock whenever bytes arrive', () => {
    const onStall = jest.fn();
    const state = { bytesRead: 0, readableLength: 0, complete: false };
    watchIdleBody(fakeBody(state), 1000, onStall);
    for (let i = 0; i < 10; i += 1) {
      state.bytesRead += 100;
      jest.advanceTimersByTime(500);
    }
    expect(onStall).not.toHaveBeenCalled();
  });
});
