// A card's actions on the Cards page sit in one menu per card ("Actions for card 0042"):
// these helpers open it and find or pick an item, so that tests do not repeat the two clicks.
import type { Locator, Page } from '@playwright/test';

/** openCardMenu opens the actions menu of the card with serial and returns the menu. */
export async function openCardMenu(page: Page, serial: string, menuName = 'Actions for card'): Promise<Locator> {
  const button = page.getByRole('button', { name: `${menuName} ${serial}`, exact: true });
  const menu = page.getByRole('menu');
  // A menu left open by an earlier look is closed first, so the click below opens it.
  if ((await button.getAttribute('aria-expanded')) === 'true') await page.keyboard.press('Escape');
  await button.click();
  await menu.waitFor();
  return menu;
}

/** cardMenuItem opens the card's menu and returns its item called name (exact). */
export async function cardMenuItem(page: Page, serial: string, name: string | RegExp, menuName?: string): Promise<Locator> {
  const menu = await openCardMenu(page, serial, menuName);
  return menu.getByRole('menuitem', typeof name === 'string' ? { name, exact: true } : { name });
}

/** cardAction picks the item called name from the card's menu. */
export async function cardAction(page: Page, serial: string, name: string | RegExp, menuName?: string): Promise<void> {
  await (await cardMenuItem(page, serial, name, menuName)).click();
}

/** closeCardMenu closes an open menu (Escape), as a person would after looking. */
export async function closeCardMenu(page: Page): Promise<void> {
  await page.keyboard.press('Escape');
  await page.getByRole('menu').waitFor({ state: 'hidden' });
}
