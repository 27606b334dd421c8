/**
 * Usernames with a character outside the user-id grammar (spec: Appendices, User Identifiers;
 * spec "User Identifiers"): every registration path refuses them with M_INVALID_USERNAME.
 */
export const BAD_CHARACTER_USERNAMES: readonly string[] = [
  'a:b',
  'a@b',
  'a b',
  'a!b',
  'a,b',
  'a"b',
  "a'b",
  'a\\b',
  'a[b',
  'a{b',
  'a|b',
  'a?b',
  'é',
  '£',
  'a\nb',
  // U+212A KELVIN SIGN: toLowerCase() would turn it into an ASCII `k`.
  '\u212Aelvin',
];
