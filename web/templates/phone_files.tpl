% rebase('base.tpl')
<h1>{{_("Files for phone {mac}", mac=display_mac(mac))}}</h1>
<p>{{_("What the phone gets at its next fetch. Passwords in these files are the extension's SIP secret: do not share this page.")}}</p>
% for name, text in files:
<section class="card">
  <h2><code>{{name}}</code></h2>
  <pre class="file">{{text}}</pre>
</section>
% end
<p><a href="/phones">{{_("Back to phones")}}</a></p>
