import { readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'

import { describe, expect, it } from 'vitest'

import {
  commonPasswords,
  isCommonPassword,
  loadCommonPasswords,
  PASSWORD_TOO_COMMON,
  passwordStrength,
} from '@/lib/passwords'

const level = (password: string, common = false) => passwordStrength(password, common)?.level

describe('common passwords', () => {
  it('knows nothing until the list is loaded, then finds entries in any case', async () => {
    expect(isCommonPassword('12345678', null)).toBeUndefined()
    const list = await loadCommonPasswords()
    expect(commonPasswords.value).toBe(list)
    expect(list.size).toBeGreaterThan(8000)
    expect(isCommonPassword('12345678')).toBe(true)
    expect(isCommonPassword('IloveYou')).toBe(true)
    // Compared as typed, as the API does: spaces make another password.
    expect(isCommonPassword(' iloveyou')).toBe(false)
    // The example superuser password of .env.example.
    expect(isCommonPassword('changethis')).toBe(false)
  })

  it('loads the list once', async () => {
    expect(await loadCommonPasswords()).toBe(await loadCommonPasswords())
  })

  it('says what the API says', () => {
    expect(PASSWORD_TOO_COMMON).toBe('This password is too common: choose a less predictable one.')
  })

  it('is the same list as the API enforces', async () => {
    const api = new URL('../../../../backend/app/core/data/common-passwords.txt.gz', import.meta.url)
    let text: string
    try {
      text = gunzipSync(readFileSync(api)).toString('utf8')
    } catch {
      return // the frontend alone (its image build): the pre-commit hook compares them
    }
    const list = await loadCommonPasswords()
    expect([...list]).toEqual(text.split('\n').filter(Boolean))
  })
})

describe('passwordStrength', () => {
  it('has nothing to say about an empty password', () => {
    expect(passwordStrength('', false)).toBeNull()
  })

  it('says too short below 8 characters, whatever they are', () => {
    expect(level('aB3$xY7')).toBe('too-short')
    expect(passwordStrength('abc', false)?.score).toBe(0)
  })

  it('says too common for a listed password, however long', async () => {
    await loadCommonPasswords()
    expect(passwordStrength('1q2w3e4r5t6y7u8i9o')).toMatchObject({ level: 'too-common', score: 0 })
    expect(passwordStrength('1q2w3e4r5t6y7u8i9o')?.label).toBe('Too common')
  })

  it('rates short or plain passwords weak', () => {
    expect(level('hqtzmwrp')).toBe('weak') // 8 letters, one kind
    expect(level('aaaaaaaaaaaaaaaaaaaa1')).toBe('weak') // long, but two distinct characters
  })

  it('rates length, or a mix of kinds, fair', () => {
    expect(level('hqtzmwrpvkcd')).toBe('fair') // 12 letters
    expect(level('Hqtz-mw7p')).toBe('fair') // 9 characters of 4 kinds
  })

  it('rates long passwords, or long enough and mixed, strong', () => {
    expect(level('plum tiger kettle ocean')).toBe('strong')
    expect(level('Hqtz-mw7p-kcd')).toBe('strong')
    expect(passwordStrength('plum tiger kettle ocean', false)?.score).toBe(3)
  })

  it('counts characters as people see them', () => {
    expect(level('😀😀😀😀😀😀😀')).toBe('too-short') // 7 emoji, 14 UTF-16 units
  })
})
