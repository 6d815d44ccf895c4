// helm test's check (templates/tests/health.yaml): each URL in KUBEMEDIC_HEALTH_URLS must answer
// 200 within 10 s. A Pod just started may not be ready yet, so each is tried for up to a minute.
// Prints what each answered; exits 1 when one never answered 200.
/* global process, console, fetch, AbortSignal, setTimeout -- Node's, in the KubeMedic image */
const urls = (process.env.KUBEMEDIC_HEALTH_URLS ?? '').split(' ').filter(Boolean);
if (urls.length === 0) {
  console.error('KUBEMEDIC_HEALTH_URLS names no URL');
  process.exit(1);
}
const deadline = Date.now() + Number(process.env.KUBEMEDIC_HEALTH_WAIT_MS ?? 60000);
let failed = false;
for (const url of urls) {
  let last;
  for (;;) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(10000) });
      last = `${response.status} ${(await response.text()).trim().slice(0, 200)}`;
      if (response.status === 200) break;
    } catch (error) {
      last = String(error?.cause ?? error);
    }
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  const healthy = last.startsWith('200');
  failed ||= !healthy;
  console.log(`${healthy ? 'ok  ' : 'FAIL'} ${url}: ${last}`);
}
process.exit(failed ? 1 : 0);
