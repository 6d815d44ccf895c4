/**
 * The Temporal Web UI of the local stack, driven by Debian's Chromium through playwright-core:
 * a real remediation is found by its policy's search attribute, opened, and read (the static
 * summary and details, the event history with activity summaries). The screenshots land in
 * docs/screenshots for the README.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { repoRoot } from '../../devstack/config.ts';
import { environment } from '../../devstack/stack.ts';
import { searchAttributes } from '../../domain/search-attributes.ts';
import { conditions, deploymentPolicy, scale } from '../support/policy-builder.ts';
import { useScenario } from '../support/scenario.ts';
import { eventually } from '../support/stack.ts';

const { namespace, medic, scenario } = useScenario('kwu');
const screenshots = join(repoRoot, 'docs', 'screenshots');

let browser: Browser;
let page: Page;
before(async () => {
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  mkdirSync(screenshots, { recursive: true });
});
after(() => browser?.close());

/** Waits until `text` is shown on the page or in one of its frames, whitespace aside. */
async function shown(text: string): Promise<void> {
  const flat = (value: string) => value.replace(/\s+/g, ' ');
  await eventually(`the Web UI to show "${text}"`, async () => {
    for (const frame of page.frames()) {
      const body = await frame
        .locator('body')
        .innerText({ timeout: 1_000 })
        .catch(() => '');
      if (flat(body).includes(text)) return true;
    }
    return undefined;
  });
}

describe('the Temporal Web UI', () => {
  it(
    'lists a remediation under its policy, and shows the run with its target, policy and activities',
    { timeout: 240_000 },
    async (t) => {
      const s = scenario(t);
      // Given a remediation that scaled a Deployment from 1 to 2 replicas and succeeded
      await s.given.availableDeployment('web', 1);
      await s.given.policy(
        'scale-web',
        deploymentPolicy('web', {
          conditions: [conditions.deploymentUnavailable('available', 1)],
          actions: [scale({ replicas: 2 })],
        }),
      );
      await s.when.runStarts();
      await s.then.runEndsAs('Succeeded');
      const { workflowId } = s.run;
      const policyLabel = `${namespace.name}/scale-web`;

      // When the Web UI lists the workflows whose policy search attribute names the policy
      const { TEMPORAL_UI_URL, TEMPORAL_NAMESPACE } = environment();
      const query = `${searchAttributes.policy.name}="${policyLabel}"`;
      const list = `${TEMPORAL_UI_URL}/namespaces/${TEMPORAL_NAMESPACE}/workflows?query=${encodeURIComponent(query)}`;
      // Then the run's row is there, named by its workflow ID, and it is the only one
      const row = page.getByRole('link', { name: workflowId, exact: true });
      await eventually(
        'the run to be listed',
        async () => {
          await page.goto(list);
          await row.waitFor({ timeout: 10_000 });
          return true;
        },
        90_000,
      );
      assert.equal(await page.getByRole('link', { name: /^remediation\// }).count(), 1);
      await page.screenshot({ path: join(screenshots, 'web-ui-runs.png') });

      // When the run is opened
      await row.click();
      // Then its page names the run and shows it completed
      await page.getByRole('heading', { name: workflowId }).waitFor({ timeout: 30_000 });
      await page.getByText('Completed', { exact: true }).first().waitFor();
      // And its static summary and details (markdown, which the UI renders in frames of their
      // own) name the target and the policy
      await page.getByRole('tab', { name: 'User Metadata' }).click();
      await shown(`Deployment ${namespace.name}/web · policy ${policyLabel} · Scale`);
      await shown(`Target Deployment ${namespace.name}/web in cluster ${medic.cluster}`);
      await shown(`Policy RemediationPolicy ${policyLabel} (generation 1)`);
      // And its current details say how it ended
      await shown('Phase Succeeded');
      // And the activities are listed by their summaries
      await page.getByText(`back up Deployment ${namespace.name}/web for Scale`).first().waitFor();
      await page.getByText(`Scale Deployment ${namespace.name}/web`).first().waitFor();
      await page.screenshot({ path: join(screenshots, 'web-ui-run.png') });

      // And the event history, in its compact view, lists the activities by their summaries
      await page.getByRole('tab', { name: /^History/ }).click();
      const history = page.getByRole('heading', { name: 'Event History' });
      await history.waitFor();
      await page.getByRole('button', { name: 'Compact' }).click();
      await page.getByText(`executeAction • Scale Deployment ${namespace.name}/web`).first().waitFor();
      await page.setViewportSize({ width: 1440, height: 1400 });
      // The heading to the top, then a little back so the UI's fixed header bar does not hide it.
      await history.evaluate((heading) => heading.scrollIntoView({ block: 'start' }));
      await page.mouse.move(720, 700);
      await page.mouse.wheel(0, -80);
      await page.screenshot({ path: join(screenshots, 'web-ui-history.png') });
    },
  );
});
