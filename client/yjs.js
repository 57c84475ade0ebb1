// The entry esbuild bundles into sala/room/static/vendor/yjs.js: Yjs as one ES module, so the
// room's pages load it from sala itself ('self' is all the room's CSP allows).
export * from "yjs";
