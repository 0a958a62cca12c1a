// Drives the cart-pole animation page (`sparsediff cartpole --animate`) in Debian's
// Chromium as a user would — play, pause, the time slider — in real time, and exits
// non-zero naming what failed. Usage: node animation.mjs PAGE.html
import { chromium } from 'playwright-core';

const page_path = process.argv[2];
const failures = [];
const expect = (ok, what) => { if (!ok) failures.push(what); };
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto('file://' + page_path);
  const label = () => page.textContent('#label');
  const slider = async () => +(await page.inputValue('#t'));
  const pole = () => page.evaluate(() => {
    const p = document.getElementById('pole');
    return p.getAttribute('x2') + ',' + p.getAttribute('y2');
  });
  const max = +(await page.getAttribute('#t', 'max'));
  expect(max > 10, `the slider spans the run (max ${max})`);
  expect((await label()).startsWith('t = 0.00 s'), `the first frame is shown: ${await label()}`);
  const pole0 = await pole();
  await page.click('#play');
  expect((await page.textContent('#play')) === 'pause', 'play turns the button into pause');
  await page.waitForTimeout(1500);
  const played = await slider();
  expect(played > 0, `playing advances the slider (at ${played})`);
  expect(!(await label()).startsWith('t = 0.00 s'), 'playing updates the label');
  expect((await pole()) !== pole0, 'playing moves the pole');
  await page.click('#play');
  expect((await page.textContent('#play')) === 'play', 'pause turns the button back into play');
  const paused = await slider();
  await page.waitForTimeout(500);
  expect((await slider()) === paused, `paused, the slider stays (${paused} → ${await slider()})`);
  await page.fill('#t', String(max));
  await page.dispatchEvent('#t', 'input');
  const last = await label();
  expect(!last.startsWith('t = 0.00 s') && last.includes(' s '), `the slider shows its frame: ${last}`);
  expect(errors.length === 0, `no script errors: ${errors.join('; ')}`);
  // the page needs nothing from the network
  const html = await page.content();
  expect(!/(src|href)="https?:/.test(html), 'the page loads nothing from the network');
} finally {
  await browser.close();
}
if (failures.length) {
  console.error('animation page: FAIL: ' + failures.join('; '));
  process.exit(1);
}
console.log('animation page in headless Chromium: play, pause and the slider work');
