import { describe, expect, it } from '@jest/globals';
import { afterLastAnswer, fmtDuration } from '../bench/timing.js';

const entry = (arrived: number, answered: number) => ({ path: '/api/v1/pods', arrived, answered });

describe('bench timing: the wall time split at the API server\'s last answer', () => {
  it('counts from the latest answer, whatever the order of the log', () => {
    expect(afterLastAnswer([entry(1010, 1500), entry(1020, 2900), entry(1030, 2000)], 1000, 3400)).toBe(500);
  });

  it('leaves out a request never answered', () => {
    expect(afterLastAnswer([entry(1010, 1500), entry(1020, 0)], 1000, 1800)).toBe(300);
  });

  it('counts the whole run when nothing was answered', () => {
    expect(afterLastAnswer([], 1000, 1250)).toBe(250);
    expect(afterLastAnswer([entry(1010, 0)], 1000, 1250)).toBe(250);
  });

  it('is never negative (an answer stamped after the exit was seen)', () => {
    expect(afterLastAnswer([entry(1010, 1300)], 1000, 1290)).toBe(0);
  });

  it('prints seconds from one second up, else milliseconds', () => {
    expect(fmtDuration(999.6)).toBe('1000 ms');
    expect(fmtDuration(1000)).toBe('1.00 s');
    expect(fmtDuration(3518.4)).toBe('3.52 s');
    expect(fmtDuration(463.2)).toBe('463 ms');
  });
});
