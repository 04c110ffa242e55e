"""Identity and access: roles, the acting user, the named permissions and their rules,
passwords, tokens, sessions and single sign-on. Pure logic: the store layer keeps the rows, the
operations package applies the rules, the web adapter carries cookies."""
