// The chart's search-attribute Job (templates/search-attributes-job.yaml): registers KubeMedic's
// custom search attributes (domain/search-attributes.ts) in the Temporal namespace, through the
// operator API, with the connection the worker uses (domain/config/temporal-connection.ts: the
// same TEMPORAL_* variables and mounted certificates). Runs in the KubeMedic image from /app, with
// tsx loaded for those two modules. Idempotent: attributes already there are left alone; one
// there with another type stops it (exit 1), since runs would then fail to start.
/* global process, console -- Node's, in the KubeMedic image */
import { Connection } from '@temporalio/client';
import { temporalConnectionOptions } from './domain/config/temporal-connection.ts';
import { searchAttributes } from './domain/search-attributes.ts';

const keyword = 2; // temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
const namespace = process.env.TEMPORAL_NAMESPACE || 'default';
const connection = await Connection.connect({
  ...temporalConnectionOptions(process.env),
  connectTimeout: '30 seconds',
});
try {
  const existing = (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes;
  const names = Object.values(searchAttributes).map((key) => key.name);
  const clashing = names.filter((name) => name in existing && existing[name] !== keyword);
  if (clashing.length > 0) {
    console.error(`${clashing.join(', ')} exist in namespace ${namespace} with another type than Keyword`);
    process.exitCode = 1;
  } else {
    const missing = names.filter((name) => !(name in existing));
    if (missing.length > 0) {
      await connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: Object.fromEntries(missing.map((name) => [name, keyword])),
      });
    }
    console.log(
      `namespace ${namespace}: registered ${missing.join(', ') || 'none'}; already there: ${
        names.filter((name) => !missing.includes(name)).join(', ') || 'none'
      }`,
    );
  }
} finally {
  await connection.close();
}
