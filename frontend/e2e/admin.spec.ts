// Administration: users, groups and the permissions groups grant, seen from
// both sides (the administrator granting, the member gaining access).
import { expect, logIn, mainNav, rowAction, test, unique } from './support/fixtures'

test('a permission granted through a group opens the matching page to its member', async ({
  adminPage: page,
  openPage,
  shot,
}) => {
  const email = `${unique('member')}@example.com`
  const password = unique('password')
  const groupName = unique('Auditors')

  // The administrator creates the account.
  const nav = await mainNav(page)
  await nav.getByRole('link', { name: 'Users' }).click()
  await page.getByRole('button', { name: 'New user' }).click()
  const dialog = page.getByRole('dialog', { name: 'New user' })
  await dialog.getByLabel('Email').fill(email)
  await dialog.getByLabel('Full name').fill('Ida Auditor')
  await dialog.getByLabel('Password').fill(password)
  await shot('new-user')
  await dialog.getByRole('button', { name: 'Create user' }).click()
  await expect(dialog).toBeHidden()
  await page.getByLabel('Search by email').fill(email)
  await page.getByRole('button', { name: 'Search', exact: true }).click()
  await expect(page.getByRole('cell', { name: `Ida Auditor ${email}` })).toBeVisible()
  await shot('user-created')

  // Without a group, the new user has no administration pages.
  const member = await openPage()
  await logIn(member, email, password)
  const memberNav = await mainNav(member)
  await expect(memberNav.getByRole('link', { name: 'Items' })).toBeVisible()
  await expect(memberNav.getByRole('link', { name: 'Users' })).toHaveCount(0)
  await member.goto('/admin/users')
  await expect(member.getByText('You do not have permission to open that page.')).toBeVisible()
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
  await expect(page.getByRole('heading', { name: groupName, level: 1 })).toBeVisible()
  await page.getByLabel('Find users by email').fill(email)
  await page.getByRole('button', { name: 'Find users' }).click()
  await page.getByRole('button', { name: `Add ${email}` }).click()
  await expect(page.getByRole('heading', { name: 'Members (1)' })).toBeVisible()
  await expect(page.getByRole('button', { name: `Remove ${email}` })).toBeVisible()
  await shot('group-with-member')

  // The member's next page load fetches their permissions afresh.
  await member.reload()
  await (await mainNav(member)).getByRole('link', { name: 'Users' }).click()
  await expect(member.getByRole('heading', { name: 'Users', level: 1 })).toBeVisible()
  const ownRow = member.getByRole('row').filter({ hasText: email })
  await expect(ownRow.getByRole('cell', { name: groupName })).toBeVisible()
  // users:read is not users:write: no way to create or change accounts.
  await expect(member.getByRole('button', { name: 'New user' })).toHaveCount(0)
  await expect(memberNav.getByRole('link', { name: 'Groups' })).toHaveCount(0)
  await shot('member-after', member)
})

test('an administrator deactivates an account, meets a duplicate email and removes a group', { tag: '@phone' }, async ({
  adminPage: page,
  createUser,
  openPage,
  shot,
}) => {
  const user = await createUser('managed')
  const groupName = unique('Temporary')
  await page.goto('/admin/users')
  await page.getByLabel('Search by email').fill(user.email)
  await page.getByRole('button', { name: 'Search', exact: true }).click()
  // The list settles on the search result: only the matching user.
  await expect(page.getByRole('row').filter({ hasText: '@' })).toHaveCount(1)
  const row = page.getByRole('row').filter({ hasText: user.email })
  await rowAction(page, user.email, 'Deactivate')
  // Confirmed first, naming the account and what it loses.
  const confirm = page.getByRole('dialog', { name: 'Deactivate user' })
  await expect(confirm.getByText(`Deactivate ${user.email}? They can no longer log in`)).toBeVisible()
  await shot('confirm-deactivate')
  await confirm.getByRole('button', { name: 'Deactivate user' }).click()
  await expect(row.getByText('Inactive')).toBeVisible()
  await shot('deactivated')
  // Making a superuser is confirmed too, naming the account and what it gains;
  // cancelled, nothing changes.
  await rowAction(page, user.email, 'Make superuser')
  const promote = page.getByRole('dialog', { name: 'Make superuser' })
  await expect(promote.getByText(`Make ${user.email} a superuser? They get every permission`)).toBeVisible()
  await shot('confirm-superuser')
  await promote.getByRole('button', { name: 'Cancel' }).click()
  await expect(promote).toBeHidden()
  await expect(row.getByText('Superuser', { exact: true })).toHaveCount(0)
  await page.getByRole('button', { name: `Actions for ${user.email}` }).click()
  await expect(page.getByRole('menuitem', { name: 'Make superuser' })).toBeVisible()
  await page.keyboard.press('Escape')

  // A deactivated account cannot log in.
  const other = await openPage()
  await other.goto('/login')
  await other.getByLabel('Email').fill(user.email)
  await other.getByLabel('Password', { exact: true }).fill(user.password)
  await other.getByRole('button', { name: 'Log in' }).click()
  await expect(other.getByRole('alert')).toBeVisible()
  await shot('inactive-login', other)
  await expect(other).toHaveURL(/\/login$/)

  await page.getByRole('button', { name: 'New user' }).click()
  const dialog = page.getByRole('dialog', { name: 'New user' })
  await dialog.getByLabel('Email').fill(user.email)
  await dialog.getByLabel('Password').fill(unique('password'))
  await dialog.getByRole('button', { name: 'Create user' }).click()
  // The server's answer sits at the field it names, not in a banner.
  await expect(dialog.getByText('A user with this email already exists')).toBeVisible()
  await expect(dialog.getByLabel('Email')).toHaveAttribute('aria-invalid', 'true')
  await expect(dialog.getByRole('alert')).toHaveCount(0)
  await shot('duplicate-email')
  await dialog.getByRole('button', { name: 'Cancel' }).click()

  await (await mainNav(page)).getByRole('link', { name: 'Groups' }).click()
  await page.getByRole('button', { name: 'New group' }).click()
  const groupDialog = page.getByRole('dialog', { name: 'New group' })
  await groupDialog.getByLabel('Name').fill(groupName)
  await groupDialog.getByRole('button', { name: 'Create group' }).click()
  await expect(page.getByRole('heading', { name: groupName, level: 1 })).toBeVisible()
  await page.getByLabel('Find users by email').fill(user.email)
  await page.getByRole('button', { name: 'Find users' }).click()
  await page.getByRole('button', { name: `Add ${user.email}` }).click()
  await expect(page.getByRole('heading', { name: 'Members (1)' })).toBeVisible()
  await page.getByRole('button', { name: `Remove ${user.email}` }).click()
  await expect(page.getByRole('heading', { name: 'Members (0)' })).toBeVisible()
  await page.getByRole('button', { name: 'Delete group' }).click()
  await page.getByRole('dialog', { name: 'Delete group' }).getByRole('button', { name: 'Delete group' }).click()
  await expect(page.getByRole('heading', { name: 'Groups', level: 1 })).toBeVisible()
  await expect(page.getByText('Group deleted.')).toBeVisible()
  await expect(page.getByText(groupName)).toHaveCount(0)
  await shot('group-deleted')
})

test('a superuser role is given only once confirmed, and taken back in one click', async ({
  adminPage: page,
  createUser,
  shot,
}) => {
  const user = await createUser('promoted')
  await page.goto('/admin/users')
  await page.getByLabel('Search by email').fill(user.email)
  await page.getByRole('button', { name: 'Search', exact: true }).click()
  const row = page.getByRole('row').filter({ hasText: user.email })
  await expect(page.getByRole('row').filter({ hasText: '@' })).toHaveCount(1)

  await rowAction(page, user.email, 'Make superuser')
  const promote = page.getByRole('dialog', { name: 'Make superuser' })
  await expect(promote).toContainText(`Make ${user.email} a superuser?`)
  await promote.getByRole('button', { name: 'Make superuser' }).click()
  await expect(promote).toBeHidden()
  await expect(page.getByText('User is now a superuser.')).toBeVisible()
  await expect(row.getByText('Superuser', { exact: true })).toBeVisible()
  await shot('superuser')

  // Taking the role back asks nothing.
  await rowAction(page, user.email, 'Remove superuser')
  await expect(page.getByText('Superuser role removed.')).toBeVisible()
  await expect(row.getByText('Superuser', { exact: true })).toHaveCount(0)
  await page.getByRole('button', { name: `Actions for ${user.email}` }).click()
  await expect(page.getByRole('menuitem', { name: 'Make superuser' })).toBeVisible()
})
