// A card's actions on the Cards page sit in one menu per card ("Actions for card 0042"):
// these helpers open it and find or pick an item, so that tests do not repeat the two clicks.
import type { Locator, Page } from '@playwright/test';

/** openCardMenu opens the actions menu of the card with serial and returns the menu. */
export async function openCardMenu(page: Page, serial: string, menuName = 'Actions for card'): Promise<Locator> {
  const button = page.getByRole('button', { name: `${menuName} ${serial}`, exact: true });
  const menu = page.getByRole('menu');
  // A menu left open by an earlier look stays open: a click would close it.
  if ((await button.getAttribute('aria-expanded')) !== 'true') await button.click();
  await menu.waitFor();
  return menu;
}

/**
 * itemName matches an item by its title: a disabled item's name goes on with the reason in
 * words, and Revoke's with "…" (it asks first), so "Lock card" is the start of the name but
 * never matches "Unlock card".
 */
export function itemName(title: string): RegExp {
  return new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:…|\\s|$)`);
}

/** cardMenuItem opens the card's menu and returns its item called name (exact). */
export async function cardMenuItem(page: Page, serial: string, name: string | RegExp, menuName?: string): Promise<Locator> {
  const menu = await openCardMenu(page, serial, menuName);
  return menu.getByRole('menuitem', { name: typeof name === 'string' ? itemName(name) : name });
}

/** cardAction picks the item called name from the card's menu. */
export async function cardAction(page: Page, serial: string, name: string | RegExp, menuName?: string): Promise<void> {
  await (await cardMenuItem(page, serial, name, menuName)).click();
}

/**
 * closeCardMenu closes the open menu by its button, as a person would after looking (Escape
 * closes it only with the focus inside, and a menu of disabled items takes no focus).
 */
export async function closeCardMenu(page: Page): Promise<void> {
  await page.locator('button[aria-haspopup="menu"][aria-expanded="true"]').click();
  await page.getByRole('menu').waitFor({ state: 'hidden' });
}
