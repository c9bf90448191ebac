// A node:test reporter that prints one closing line, "e2e: N passed, N failed, N skipped",
// counting the tests themselves (not the files that hold them).
export default async function* summary(source) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const failures = [];
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { data } = event;
    // File-level entries wrap a file's tests; they are counted through their tests.
    if (data.details?.type === 'suite' || data.file === undefined || /\.test\.ts$/.test(data.name)) continue;
    if (data.skip || data.todo) skipped++;
    else if (event.type === 'test:pass') passed++;
    else {
      failed++;
      failures.push(data.name);
    }
  }
  yield '\n';
  for (const name of failures) yield `FAILED: ${name}\n`;
  yield `e2e: ${passed} passed, ${failed} failed, ${skipped} skipped\n`;
}
