import t from 'tap';
import { ERROR_CODES, isErrorCode } from './codes.js';
import { EXIT_STATUS_BY_CODE, ExitStatus, exitStatusOf } from './exit-status.js';

t.test('every error code has an exit status, and only our codes do', async (t) => {
  const statuses = new Set<number>(Object.values(ExitStatus));
  for (const code of ERROR_CODES) {
    t.ok(Object.hasOwn(EXIT_STATUS_BY_CODE, code), `${code} is in the table`);
    t.ok(statuses.has(exitStatusOf({ code })), `${code} exits with one of the documented statuses`);
  }
  t.same(Object.keys(EXIT_STATUS_BY_CODE).sort(), [...ERROR_CODES].sort(), 'nothing in the table that is not a code');
  t.notOk(isErrorCode('toString'));
  t.equal(exitStatusOf({ code: 'toString' }), ExitStatus.internal, 'an inherited key is no code');
  t.equal(exitStatusOf({ code: 'ENOENT' }), ExitStatus.internal, "a library's own code");
  t.equal(exitStatusOf(undefined), ExitStatus.internal);
});
