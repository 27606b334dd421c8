/** Text made safe for HTML text and attribute values (the five characters that matter there). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
