// The peer side of tests/interop: @hellocoop/httpsig signs and verifies what the Python
// suite hands it. Reads a JSON list of operations on stdin, writes a JSON list of results.
// Network access is replaced by the documents the suite passes ("documents": {url: json}),
// so a jwks_uri verification never leaves the process.
'use strict';
const path = require('node:path');
const peer = require(path.join(process.env.HTTPSIG_DIR, 'node_modules', '@hellocoop', 'httpsig'));

let documents = {};
globalThis.fetch = async (url) => {
    const doc = documents[String(url)];
    if (doc === undefined) {
        return new Response('not found', { status: 404, statusText: 'Not Found' });
    }
    return new Response(JSON.stringify(doc), { status: 200, headers: { 'content-type': 'application/json' } });
};

async function sign(op) {
    const options = {
        method: op.method,
        headers: op.headers || {},
        signingKey: op.signingKey,
        signatureKey: op.signatureKey,
        dryRun: true,
    };
    if (op.body !== undefined && op.body !== null) options.body = op.body;
    if (op.components) options.components = op.components;
    const { headers } = await peer.fetch(op.url, options);
    const out = {};
    headers.forEach((value, name) => { out[name] = value; });
    return { headers: out };
}

async function verify(op) {
    documents = op.documents || {};
    const result = await peer.verify(
        {
            method: op.method,
            authority: op.authority,
            path: op.path,
            query: op.query,
            headers: op.headers,
            body: op.body === null ? undefined : op.body,
        },
        { requireContentDigest: true },
    );
    return { verified: result.verified, keyType: result.keyType, thumbprint: result.thumbprint, error: result.error || null };
}

async function main() {
    const chunks = [];
    for await (const chunk of process.stdin) chunks.push(chunk);
    const results = [];
    for (const op of JSON.parse(Buffer.concat(chunks).toString('utf8'))) {
        try {
            results.push(op.op === 'sign' ? await sign(op) : await verify(op));
        } catch (error) {
            results.push({ verified: false, error: String(error && error.message || error) });
        }
    }
    process.stdout.write(JSON.stringify(results));
}

main();
