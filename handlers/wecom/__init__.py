"""The WeCom (企业微信) adapter: callbacks, the API client, rendering (DESIGN.md section 8)."""
