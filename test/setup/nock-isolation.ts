import { afterAll, beforeAll } from '@jest/globals';
import nock from 'nock';

// Each test file starts with nock active and no network except loopback (the test API server),
// and leaves nothing behind for the next file in the same worker.
beforeAll(() => {
  if (!nock.isActive()) nock.activate();
  nock.disableNetConnect();
  nock.enableNetConnect(/^(127\.0\.0\.1|localhost)(:\d+)?$/);
});

afterAll(() => {
  nock.cleanAll();
  nock.enableNetConnect();
  nock.restore();
});
