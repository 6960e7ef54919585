// Renders productpage's HTML: the book, its details, its reviews with stars, and the sign-in bar.

/** The one book bookinfo sells. */
export const PRODUCTS = Object.freeze([
  Object.freeze({
    id: 0,
    title: 'The Comedy of Errors',
    descriptionHtml:
      '<a href="https://en.wikipedia.org/wiki/The_Comedy_of_Errors">Wikipedia Summary</a>: The Comedy of ' +
      "Errors is one of <b>William Shakespeare's</b> early plays. It is his shortest and one of his most " +
      'farcical comedies, with a major part of the humour coming from slapstick and mistaken identity, in ' +
      'addition to puns and word play.',
  }),
]);

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function esc(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

function userBar(user) {
  if (user) {
    return (
      `<span class="user">Signed in as <b id="user">${esc(user)}</b></span>\n` +
      '<a class="button" href="/logout">Sign out</a>'
    );
  }
  return (
    '<form class="login" method="post" action="/login">\n' +
    '<input type="text" name="username" placeholder="User Name">\n' +
    '<input type="password" name="passwd" placeholder="Password">\n' +
    '<button type="submit">Sign in</button>\n' +
    '</form>'
  );
}

const DETAIL_FIELDS = [
  ['Type', 'type'],
  ['Pages', 'pages'],
  ['Publisher', 'publisher'],
  ['Language', 'language'],
  ['ISBN-10', 'ISBN-10'],
  ['ISBN-13', 'ISBN-13'],
];

function detailsSection(status, details) {
  if (status !== 200) {
    return `<h4 class="error">Error fetching product details!</h4>\n<p>${esc(details.error)}</p>`;
  }
  const rows = DETAIL_FIELDS.map(([label, key]) => `<dt>${label}:</dt><dd>${esc(details[key])}</dd>`);
  return `<h4>Book Details</h4>\n<dl>\n${rows.join('\n')}\n</dl>`;
}

function stars(rating) {
  if (rating === undefined || rating === null) return '';
  if (rating.error) return `<p><i class="rating-error">${esc(rating.error)}</i></p>`;
  const n = Math.max(0, Math.min(5, Number(rating.stars) || 0));
  const full = '<span class="glyphicon glyphicon-star"></span>'.repeat(n);
  const empty = '<span class="glyphicon glyphicon-star-empty"></span>'.repeat(5 - n);
  return `<font color="${esc(rating.color)}">${full}${empty}</font>`;
}

function reviewsSection(status, reviews) {
  if (status !== 200) {
    return `<h4 class="error">Error fetching product reviews!</h4>\n<p>${esc(reviews.error)}</p>`;
  }
  const items = (reviews.reviews ?? []).map(
    (r) =>
      `<blockquote>\n<p>${esc(r.text)}</p>\n<small>${esc(r.reviewer)}</small>\n${stars(r.rating)}\n</blockquote>`,
  );
  const cluster =
    reviews.clustername && reviews.clustername !== 'null' ? ` on ${esc(reviews.clustername)}` : '';
  const servedBy = `<dl><dt>Reviews served by:</dt><dd><u>${esc(reviews.podname)}</u>${cluster}</dd></dl>`;
  return `<h4>Book Reviews</h4>\n${items.join('\n')}\n${servedBy}`;
}

/**
 * The product page.
 * @param {{ product: typeof PRODUCTS[number], user: string, detailsStatus: number, details: any,
 *   reviewsStatus: number, reviews: any }} view
 * @returns {string} HTML
 */
export function renderProductPage(view) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Simple Bookstore App</title>
<link rel="stylesheet" href="/static/bookinfo.css">
</head>
<body>
<nav>
<a class="brand" href="/">BookInfo Sample</a>
${userBar(view.user)}
</nav>
<main>
<h3 class="title">${esc(view.product.title)}</h3>
<p class="summary">${view.product.descriptionHtml}</p>
<div class="columns">
<section class="details">
${detailsSection(view.detailsStatus, view.details)}
</section>
<section class="reviews">
${reviewsSection(view.reviewsStatus, view.reviews)}
</section>
</div>
</main>
</body>
</html>
`;
}

/** The landing page at `/`. */
export function renderIndex() {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Simple Bookstore App</title>
<link rel="stylesheet" href="/static/bookinfo.css">
</head>
<body>
<main>
<h3>Hello! This is a simple bookstore application consisting of four services.</h3>
<p>productpage calls details and reviews; reviews v2 and v3 call ratings.</p>
<p><a class="button" href="/productpage?u=normal">Normal user</a>
<a class="button" href="/productpage?u=test">Test user</a></p>
</main>
</body>
</html>
`;
}

/** The page's style sheet, served at `/static/bookinfo.css`. */
export const STYLESHEET = `body { font-family: sans-serif; margin: 0; }
nav { background: #222; color: #ddd; padding: 8px 16px; display: flex; gap: 16px; align-items: center; }
nav .brand { color: #fff; font-weight: bold; text-decoration: none; margin-right: auto; }
main { padding: 0 16px; }
.title, .summary { text-align: center; }
.columns { display: flex; gap: 32px; }
.columns > section { flex: 1; }
blockquote { border-left: 4px solid #ccc; margin: 12px 0; padding: 4px 12px; }
.glyphicon-star::before { content: "\\2605"; }
.glyphicon-star-empty::before { content: "\\2606"; }
.error, .rating-error { color: #a33; }
`;
