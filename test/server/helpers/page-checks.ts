// Checks a page test makes in the browser itself: accessibility (axe-core, injected from
// node_modules), contrast computed from the page's real CSS, sideways scrolling, and the page
// errors it logged.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');

// The scripts run in the page as source text: tsx would wrap named functions inside a
// closure handed to page.evaluate with a helper the page does not have.
const AXE_RUN = `axe.run().then(({ violations }) => violations
  .filter((v) => v.impact === 'serious' || v.impact === 'critical')
  .map((v) => v.id + ': ' + v.nodes.map((n) => n.target.join(' ')).join(', ')))`;

/**
 * axe-core's serious and critical violations on the page as it is now: `rule: target, ...`.
 * axe is evaluated, not added as a script tag: the pages' CSP (script-src 'self') refuses
 * inline scripts, as it should.
 */
export async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(await readFile(AXE, 'utf8'));
  return page.evaluate(AXE_RUN) as Promise<string[]>;
}

const CONTRASTS = `(([selector, background]) => {
  function luminance(css) {
    const [r, g, b] = (css.match(/\\d+(\\.\\d+)?/g) || []).slice(0, 3).map((v) => {
      const c = Number(v) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  }
  const backdrop = document.querySelector(background);
  if (!backdrop) throw new Error('no ' + background);
  const back = luminance(getComputedStyle(backdrop).backgroundColor);
  const ratios = {};
  for (const element of document.querySelectorAll(selector)) {
    const color = getComputedStyle(element).color;
    const fore = luminance(color);
    ratios[color] = (Math.max(fore, back) + 0.05) / (Math.min(fore, back) + 0.05);
  }
  return ratios;
})`;

/**
 * WCAG contrast of every distinct text colour under `selector` against the computed background
 * of `background`: `{color: ratio}`.
 */
export function contrastRatios(
  page: Page,
  selector: string,
  background: string,
): Promise<Record<string, number>> {
  return page.evaluate(`${CONTRASTS}(${JSON.stringify([selector, background])})`) as Promise<
    Record<string, number>
  >;
}

/** True when the document scrolls sideways (wider than the viewport). */
export function scrollsSideways(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const root = document.scrollingElement as Element;
    return root.scrollWidth > root.clientWidth;
  });
}

/** Page errors and console errors, collected from now on. */
export function collectProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  return problems;
}
