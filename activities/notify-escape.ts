/**
 * Escaping what a tenant controls (names, reasons, Event messages quoted in evidence) before it
 * reaches a chat sink that renders markup, so a hostile name cannot make a link, a mention or
 * formatting. Each sink's rules side by side; KubeMedic's own links are added after escaping.
 */

/** `&`, `<` and `>` as entities: first, so an entity already in the text shows as written. */
const entities = (text: string) =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/**
 * Slack's mrkdwn escaping: `&`, `<` and `>` become entities, so a name or a reason cannot make
 * a link, a mention (`<!channel>`) or a broken message. Applied to every value KubeMedic did not
 * write itself; its own `<url|text>` link is added after.
 */
export const slackEscape = entities;

/**
 * Microsoft Teams: an Adaptive Card's TextBlock (and FactSet) text is a markdown subset (links
 * `[x](y)`, `*`/`_` emphasis, lists) and Teams renders some HTML entities. So the entities are
 * escaped as for Slack, then the marks that make a link or emphasis (`[`, `]`, `*`, `_`, `~`,
 * `` ` ``, `\`) get a backslash (CommonMark: any ASCII punctuation may be escaped; parentheses
 * alone make no link, so names stay readable), and a list marker at a line's start (`- `, `+ `, `1. `)
 * is escaped so it stays text.
 */
export const teamsEscape = (text: string) =>
  entities(text)
    .replace(/[\\`*_[\]~]/g, '\\$&')
    .replace(/^(\s*)([-+]|\d+\.)(?=\s|$)/gm, (_, space: string, marker: string) =>
      marker.endsWith('.') ? `${space}${marker.slice(0, -1)}\\.` : `${space}\\${marker}`,
    );

/**
 * Cut escaped text at `limit` characters without leaving half an escape at the cut (a lone `\`
 * would escape the ellipsis, half an entity would show as `&am`).
 */
export function clipEscaped(escaped: string, limit: number): string {
  if (escaped.length <= limit) return escaped;
  return `${escaped.slice(0, limit - 3).replace(/(\\|&[a-z]*)$/, '')}...`;
}
