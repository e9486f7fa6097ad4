// Administration: users, groups and the permissions groups grant, seen from
// both sides (the administrator granting, the member gaining access).
import assert from 'node:assert/strict'

import { createUser, e2e, logIn, rowAction, unique, until } from './lib.mjs'

e2e('a permission granted through a group opens the matching page to its member', async ({ page, shot, openPage }) => {
  const email = `${unique('member')}@example.com`
  const password = unique('password')
  const groupName = unique('Auditors')

  // The administrator creates the account.
  await logIn(page)
  const nav = page.getByRole('navigation', { name: 'Main' })
  await nav.getByRole('link', { name: 'Users' }).click()
  await page.getByRole('button', { name: 'New user' }).click()
  const dialog = page.getByRole('dialog', { name: 'New user' })
  await dialog.getByLabel('Email').fill(email)
  await dialog.getByLabel('Full name').fill('Ida Auditor')
  await dialog.getByLabel('Password').fill(password)
  await shot('new-user')
  await dialog.getByRole('button', { name: 'Create user' }).click()
  await dialog.waitFor({ state: 'hidden' })
  await page.getByLabel('Search by email').fill(email)
  await page.getByRole('button', { name: 'Search', exact: true }).click()
  await page.getByRole('cell', { name: `Ida Auditor ${email}` }).waitFor()
  await shot('user-created')

  // Without a group, the new user has no administration pages.
  const member = await openPage()
  await logIn(member, email, password)
  const memberNav = member.getByRole('navigation', { name: 'Main' })
  await memberNav.getByRole('link', { name: 'Items' }).waitFor()
  assert.equal(await memberNav.getByRole('link', { name: 'Users' }).count(), 0)
  await member.goto('/admin/users')
  await member.getByText('You do not have permission to open that page.').waitFor()
  await shot('member-before', member)

  // The administrator creates a group granting users:read and adds the user.
  await nav.getByRole('link', { name: 'Groups' }).click()
  await page.getByRole('button', { name: 'New group' }).click()
  const groupDialog = page.getByRole('dialog', { name: 'New group' })
  await groupDialog.getByLabel('Name').fill(groupName)
  await groupDialog.getByLabel('Description').fill('Can see every account')
  await groupDialog.getByRole('checkbox', { name: /^users:read\b/ }).check()
  await shot('new-group')
  await groupDialog.getByRole('button', { name: 'Create group' }).click()
  await page.getByRole('heading', { name: groupName, level: 1 }).waitFor()
  await page.getByLabel('Find users by email').fill(email)
  await page.getByRole('button', { name: 'Find users' }).click()
  await page.getByRole('button', { name: `Add ${email}` }).click()
  await page.getByRole('heading', { name: 'Members (1)' }).waitFor()
  await page.getByRole('button', { name: `Remove ${email}` }).waitFor()
  await shot('group-with-member')

  // The member's next page load fetches their permissions afresh.
  await member.reload()
  await memberNav.getByRole('link', { name: 'Users' }).click()
  await member.getByRole('heading', { name: 'Users', level: 1 }).waitFor()
  const ownRow = member.getByRole('row').filter({ hasText: email })
  await ownRow.getByRole('cell', { name: groupName }).waitFor()
  // users:read is not users:write: no way to create or change accounts.
  assert.equal(await member.getByRole('button', { name: 'New user' }).count(), 0)
  assert.equal(await memberNav.getByRole('link', { name: 'Groups' }).count(), 0)
  await shot('member-after', member)
})

e2e('an administrator deactivates an account, meets a duplicate email and removes a group', async ({ page, shot, openPage }) => {
  const user = await createUser('managed')
  const groupName = unique('Temporary')
  await logIn(page)
  await page.goto('/admin/users')
  await page.getByLabel('Search by email').fill(user.email)
  await page.getByRole('button', { name: 'Search', exact: true }).click()
  // The list settles on the search result: only the matching user.
  await until(async () => (await page.getByRole('row').filter({ hasText: '@' }).count()) === 1, 'the search result')
  await rowAction(page, user.email, 'Deactivate')
  // Confirmed first, naming the account and what it loses.
  const confirm = page.getByRole('dialog', { name: 'Deactivate user' })
  await confirm.getByText(`Deactivate ${user.email}? They can no longer log in`).waitFor()
  await shot('confirm-deactivate')
  await confirm.getByRole('button', { name: 'Deactivate user' }).click()
  await page.getByRole('row').filter({ hasText: user.email }).getByText('Inactive').waitFor()
  await shot('deactivated')
  // Making a superuser is confirmed too; cancelled, nothing changes.
  await rowAction(page, user.email, 'Make superuser')
  const promote = page.getByRole('dialog', { name: 'Make superuser' })
  await promote.getByText(`Make ${user.email} a superuser?`).waitFor()
  await promote.getByRole('button', { name: 'Cancel' }).click()
  await page.getByRole('button', { name: `Actions for ${user.email}` }).click()
  await page.getByRole('menuitem', { name: 'Make superuser' }).waitFor()
  await page.keyboard.press('Escape')

  // A deactivated account cannot log in.
  const other = await openPage()
  await other.goto('/login')
  await other.getByLabel('Email').fill(user.email)
  await other.getByLabel('Password', { exact: true }).fill(user.password)
  await other.getByRole('button', { name: 'Log in' }).click()
  await other.getByRole('alert').waitFor()
  await shot('inactive-login', other)
  assert.match(other.url(), /\/login$/)

  await page.getByRole('button', { name: 'New user' }).click()
  const dialog = page.getByRole('dialog', { name: 'New user' })
  await dialog.getByLabel('Email').fill(user.email)
  await dialog.getByLabel('Password').fill(unique('password'))
  await dialog.getByRole('button', { name: 'Create user' }).click()
  // The server's answer sits at the field it names, not in a banner.
  await dialog.getByText('A user with this email already exists').waitFor()
  assert.equal(await dialog.getByLabel('Email').getAttribute('aria-invalid'), 'true')
  assert.equal(await dialog.getByRole('alert').count(), 0)
  await shot('duplicate-email')
  await dialog.getByRole('button', { name: 'Cancel' }).click()

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Groups' }).click()
  await page.getByRole('button', { name: 'New group' }).click()
  const groupDialog = page.getByRole('dialog', { name: 'New group' })
  await groupDialog.getByLabel('Name').fill(groupName)
  await groupDialog.getByRole('button', { name: 'Create group' }).click()
  await page.getByRole('heading', { name: groupName, level: 1 }).waitFor()
  await page.getByLabel('Find users by email').fill(user.email)
  await page.getByRole('button', { name: 'Find users' }).click()
  await page.getByRole('button', { name: `Add ${user.email}` }).click()
  await page.getByRole('heading', { name: 'Members (1)' }).waitFor()
  await page.getByRole('button', { name: `Remove ${user.email}` }).click()
  await page.getByRole('heading', { name: 'Members (0)' }).waitFor()
  await page.getByRole('button', { name: 'Delete group' }).click()
  await page.getByRole('dialog', { name: 'Delete group' }).getByRole('button', { name: 'Delete group' }).click()
  await page.getByRole('heading', { name: 'Groups', level: 1 }).waitFor()
  await page.getByText('Group deleted.').waitFor()
  assert.equal(await page.getByText(groupName).count(), 0)
  await shot('group-deleted')
})
