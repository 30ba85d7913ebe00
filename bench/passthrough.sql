-- A utility statement usermap does not own: it still goes through the
-- ProcessUtility hook, so this measures what the hook costs everyone else.
SET application_name = 'x';
