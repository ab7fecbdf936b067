/**
 * `--pdf`: prints report.html to an A4 PDF with Debian's chromium (playwright-core drives it; it never
 * downloads a browser). Without chromium this is a clear usage error, not a crash.
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { InputError } from './errors.ts';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function writePdf(htmlFile: string, pdfFile: string): Promise<void> {
  if (!existsSync(CHROMIUM_PATH))
    throw new InputError(`--pdf needs Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // No background networking: the report makes no requests and the browser should not either.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    await page.goto(pathToFileURL(htmlFile).href);
    await page.emulateMedia({ media: 'print' });
    await page.pdf({ path: pdfFile, format: 'A4', printBackground: true, margin: { top: '15mm', bottom: '15mm', left: '12mm', right: '12mm' } });
  } finally {
    await browser.close();
  }
}
