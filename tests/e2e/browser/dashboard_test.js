// The dashboard of `qpipe api` in a real browser: Debian's chromium,
// headless, driven through the DevTools protocol by puppeteer-core.
//
//   node dashboard_test.js BASE_URL TOKEN CHROMIUM USER_DATA_DIR
//
// It logs in with the printed ?token= address, starts a listener and a send
// from the page's forms and waits until both rows say done at 100%; cancels
// and removes a third transfer from the page; checks that a page of another
// origin cannot start a transfer; and fails on any script error, CSP
// violation or failed request of the page. Prints TAP-like "ok"/"not ok"
// lines; exits 0 only when all passed. Every wait is bounded.
'use strict';

const puppeteer = require('puppeteer-core');

const [base, token, chromium, userDataDir] = process.argv.slice(2);
const results = [];
function check(name, ok, detail) {
  results.push(ok);
  console.log(`${ok ? 'ok' : 'not ok'} - ${name}${ok || !detail ? '' : ` (${detail})`}`);
}

// The states of the page's rows: [{id, role, state, percent, address, rate}].
function rows(page) {
  return page.$$eval('#transfers tbody tr[data-id]', trs => trs.map(tr => ({
    id: tr.dataset.id,
    role: tr.dataset.role,
    state: tr.dataset.state,
    percent: tr.dataset.percent,
    address: tr.querySelector('.address').textContent,
    rate: tr.querySelector('.rate').textContent,
    bar: tr.querySelector('progress').value,
  })));
}

async function setValue(page, selector, value) {
  await page.$eval(selector, (el, v) => { el.value = v; }, value);
}

async function main() {
  const browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    userDataDir,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
      '--no-default-browser-check', '--disable-extensions'],
    protocolTimeout: 60000,
  });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(30000);
    const problems = [];
    page.on('console', m => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
    page.on('pageerror', e => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', r => problems.push(`request failed: ${r.url()} ${r.failure().errorText}`));
    page.on('response', r => { if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.url()}`); });

    // The printed address: the token becomes an HttpOnly cookie, the address
    // bar loses it.
    const response = await page.goto(`${base}/?token=${token}`, {waitUntil: 'load'});
    check('the ?token= address leads to the dashboard', response.status() === 200 &&
          page.url() === `${base}/`, `${response.status()} ${page.url()}`);
    check('the token cookie is invisible to scripts (HttpOnly)',
          (await page.evaluate(() => document.cookie)) === '');
    await page.waitForFunction(() => document.getElementById('version').textContent !== '');

    // A listener from the page.
    await setValue(page, '#listener-form input[name=listen]', '127.0.0.1:0');
    await setValue(page, '#listener-form input[name=output]', 'browser.bin');
    await page.click('#listener-form button[type=submit]');
    const addressHandle = await page.waitForFunction(() => {
      const tr = document.querySelector('#transfers tr[data-role=listen]');
      const a = tr && tr.querySelector('.address').textContent;
      return a && /:[1-9][0-9]*$/.test(a) ? a : null;
    });
    const address = await addressHandle.jsonValue();
    check(`the listener shows its address (${address})`, /^127\.0\.0\.1:\d+$/.test(address), address);

    // A send to it from the page: 32 MiB of generated data.
    await setValue(page, '#send-form input[name=peer]', address);
    await page.click('#send-form input[name=source][value=gen]');
    await setValue(page, '#send-form input[name=size]', '32M');
    await page.click('#send-form input[name=insecure]');
    await page.click('#send-form button[type=submit]');
    let done = true;
    try {
      await page.waitForFunction(() => {
        const trs = [...document.querySelectorAll('#transfers tbody tr[data-id]')];
        return trs.length === 2 && trs.every(tr => tr.dataset.state === 'done');
      }, {timeout: 60000, polling: 100});
    } catch (e) {
      done = false;
    }
    const seen = await rows(page);
    check('the listener and the send both end done', done, JSON.stringify(seen));
    check('both at 100%, progress bars full', seen.length === 2 &&
          seen.every(r => r.percent === '100' && r.bar === 100), JSON.stringify(seen));
    check('the send shows its rate', seen.some(r => r.role === 'send' && /\/s$/.test(r.rate)),
          JSON.stringify(seen));
    check('the message line names the send', /^send t\d+ to /.test(
        await page.$eval('#message', el => el.textContent)));

    // Cancel a transfer from the page, then remove its record.
    await setValue(page, '#listener-form input[name=output]', 'cancelled.bin');
    await page.click('#listener-form button[type=submit]');
    const idHandle = await page.waitForFunction(() => {
      const tr = [...document.querySelectorAll('#transfers tr[data-role=listen]')]
          .find(t => t.dataset.state === 'pending');
      return tr ? tr.dataset.id : null;
    });
    const id = await idHandle.jsonValue();
    await page.click(`#transfers tr[data-id="${id}"] td.actions button`);
    await page.waitForFunction(sel => {
      const tr = document.querySelector(sel);
      return tr && tr.dataset.state === 'cancelled' && tr.querySelector('button').textContent === 'Remove';
    }, {}, `#transfers tr[data-id="${id}"]`);
    check(`Cancel from the page: ${id} is cancelled`, true);
    await page.click(`#transfers tr[data-id="${id}"] td.actions button`);
    await page.waitForFunction(sel => !document.querySelector(sel), {}, `#transfers tr[data-id="${id}"]`);
    check(`Remove from the page: ${id} is gone`, true);

    check('no script error, CSP violation or failed request on the page', problems.length === 0,
          problems.join('; '));

    // Another origin cannot start a transfer: a page of its own (opaque
    // origin) posts to the service as a cross-site form would.
    const other = await browser.newPage();
    await other.goto('data:text/html,<title>elsewhere</title>');
    await other.evaluate(async url => {
      const body = JSON.stringify({peer: '127.0.0.1:9', source: {gen: {size: '1M'}}, insecure: true});
      for (const type of ['text/plain', 'application/json']) {
        try {
          await fetch(url, {method: 'POST', mode: 'no-cors', credentials: 'include',
                            headers: {'Content-Type': type}, body});
        } catch (e) {
          // Refused by the browser or by the service: either way, nothing starts.
        }
      }
    }, `${base}/v1/sends`);
    const after = await page.evaluate(async () => (await (await fetch('/v1/transfers')).json())
        .transfers.length);
    check('a page of another origin could not start a send', after === 2, `${after} transfers`);
  } finally {
    await browser.close();
  }
}

main().then(() => process.exit(results.every(Boolean) ? 0 : 1), e => {
  console.log(`not ok - the browser test ran to its end (${e && e.stack || e})`);
  process.exit(1);
});
