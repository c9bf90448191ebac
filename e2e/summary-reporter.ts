// A Playwright reporter that prints one closing line, "e2e: N passed, N failed, N skipped",
// after why tests were skipped and the names of the failed ones: the line CI reads, whatever
// the list above it says.
import type { FullResult, Reporter, Suite, TestCase } from '@playwright/test/reporter';

/** SummaryReporter counts the tests by outcome and prints the closing line at the end. */
export default class SummaryReporter implements Reporter {
  private suite: Suite | undefined;

  onBegin(_config: unknown, suite: Suite): void {
    this.suite = suite;
  }

  onEnd(result: FullResult): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const failures: TestCase[] = [];
    const whySkipped = new Map<string, number>();
    for (const test of this.suite?.allTests() ?? []) {
      switch (test.outcome()) {
        case 'expected':
        case 'flaky':
          passed++;
          break;
        case 'skipped': {
          skipped++;
          const reason = skipReason(test);
          if (reason) whySkipped.set(reason, (whySkipped.get(reason) ?? 0) + 1);
          break;
        }
        case 'unexpected':
          failed++;
          failures.push(test);
          break;
      }
    }
    process.stdout.write('\n');
    for (const [reason, n] of whySkipped) process.stdout.write(`skipped (${n}): ${reason}\n`);
    for (const test of failures) process.stdout.write(`FAILED: ${test.titlePath().filter(Boolean).join(' › ')}\n`);
    // A run can fail with no test failed (an error outside every test, the run's time out);
    // the exit code says so, and so does this line.
    if (result.status !== 'passed' && failed === 0) process.stdout.write(`e2e: the run ended ${result.status} outside the tests\n`);
    process.stdout.write(`e2e: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}

/** skipReason is why test was skipped (test.skip's description), if it said. */
function skipReason(test: TestCase): string | undefined {
  const annotations = [...test.annotations, ...test.results.flatMap((r) => r.annotations)];
  return annotations.find((a) => a.type === 'skip' && a.description)?.description;
}
