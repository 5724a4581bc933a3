/** The smallest real workflow: proves a server runs workflow tasks from our bundle. */
export async function echo(text: string): Promise<string> {
  return text;
}
