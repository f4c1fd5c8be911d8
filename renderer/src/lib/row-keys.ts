// Table rows that open something are focusable (tabindex 0) and clickable; from the keyboard,
// Enter or Space opens them as a click does. Their look: `.table tr.clickable` in app.css.

/** The keydown handler of such a row. */
export function openOnKey(open: () => void): (e: KeyboardEvent) => void {
  return (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      open();
    }
  };
}
