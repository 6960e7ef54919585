// Bookinfo's details service: bibliographic facts about a book (`/details/{id}`).
import { sendJson, serve } from '../../lib/serve.mjs';

function bookDetails(id) {
  return {
    id,
    author: 'William Shakespeare',
    year: 1595,
    type: 'paperback',
    pages: 200,
    publisher: 'PublisherA',
    language: 'English',
    'ISBN-10': '1234567890',
    'ISBN-13': '123-1234567890',
  };
}

function handle(req, res) {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/health') return sendJson(res, 200, { status: 'Details is healthy' });
  const m = /^\/details\/([^/]*)$/.exec(path);
  if (m === null) return sendJson(res, 404, { error: 'unsupported URL' });
  if (!/^\d+$/.test(m[1])) return sendJson(res, 400, { error: 'please provide numeric product id' });
  sendJson(res, 200, bookDetails(Number(m[1])));
}

serve('details', 9080, handle);
