// Stands in for the Azure Functions host in front of `trib serve --functions`, doing what the host
// does for our two functions (deploy/azure/functions/), so the custom handler is exercised through
// its real protocol on this machine:
//   timer URL ISO_TIME              POST /DailyUpdate with a timer trigger's payload
//   drain URL CONNECTION QUEUE      the queue trigger: receive messages from the Storage Queue
//                                   with Microsoft's SDK (Base64-decoded, as the host does), POST
//                                   each to /RunTask with its metadata (Id, DequeueCount,
//                                   PopReceipt, ...), delete it on 200 (a 404 means the handler
//                                   removed it already), otherwise make it visible again, and
//                                   after maxDequeueCount (5) copy it to <queue>-poison and delete
//                                   it. Returns once the queue is empty. Prints a JSON summary.
import { QueueClient } from '@azure/storage-queue';

const [mode, url, ...rest] = process.argv.slice(2);

async function post(path, payload) {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(payload),
  });
  const text = await res.text();
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = { raw: text };
  }
  return { status: res.status, body };
}

async function timer(isoTime) {
  const payload = {
    Data: {
      timer: {
        Schedule: { AdjustForDST: true },
        ScheduleStatus: { Last: isoTime, Next: isoTime, LastUpdated: isoTime },
        IsPastDue: false,
      },
    },
    Metadata: { sys: { MethodName: 'DailyUpdate', UtcNow: isoTime, RandGuid: '00000000-0000-0000-0000-000000000000' } },
  };
  const r = await post('/DailyUpdate', payload);
  console.log(JSON.stringify({ status: r.status, ...r.body }));
  if (r.status !== 200) process.exit(1);
}

async function drain(connection, queueName) {
  const queue = new QueueClient(connection, queueName);
  const poison = new QueueClient(connection, `${queueName}-poison`);
  const maxDequeueCount = 5;
  const stats = { invocations: 0, succeeded: 0, failed: 0, poisoned_by_host: 0, removed_by_handler: 0 };
  for (let idle = 0; idle < 3;) {
    const got = await queue.receiveMessages({ numberOfMessages: 16, visibilityTimeout: 600 });
    if (got.receivedMessageItems.length === 0) {
      const props = await queue.getProperties();
      if ((props.approximateMessagesCount ?? 0) === 0) idle++;
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    idle = 0;
    for (const m of got.receivedMessageItems) {
      const decoded = Buffer.from(m.messageText, 'base64').toString('utf8');
      const payload = {
        Data: { task: decoded },
        Metadata: {
          Id: m.messageId,
          DequeueCount: m.dequeueCount,
          PopReceipt: m.popReceipt,
          InsertionTime: m.insertedOn.toISOString(),
          ExpirationTime: m.expiresOn.toISOString(),
          NextVisibleTime: m.nextVisibleOn.toISOString(),
        },
      };
      stats.invocations++;
      const r = await post('/RunTask', payload);
      if (r.status === 200) {
        stats.succeeded++;
        try {
          await queue.deleteMessage(m.messageId, m.popReceipt);
        } catch (e) {
          if (e.statusCode === 404) stats.removed_by_handler++;
          else throw e;
        }
        continue;
      }
      stats.failed++;
      if (m.dequeueCount >= maxDequeueCount) {
        await poison.sendMessage(m.messageText);
        await queue.deleteMessage(m.messageId, m.popReceipt).catch(() => {});
        stats.poisoned_by_host++;
      } else {
        await queue.updateMessage(m.messageId, m.popReceipt, undefined, 0).catch(() => {});
      }
    }
  }
  console.log(JSON.stringify(stats));
}

if (mode === 'timer') await timer(rest[0] ?? new Date().toISOString());
else if (mode === 'drain') await drain(rest[0], rest[1]);
else {
  console.error('usage: functions-host-emulator.mjs timer URL [ISO_TIME] | drain URL CONNECTION QUEUE');
  process.exit(2);
}
