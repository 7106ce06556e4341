% rebase('base.tpl')
<article class="sheet">
  <h1>Phone sheet: extension {{extension['number']}}</h1>
  <p>{{extension.get('name', '')}}</p>
  <dl>
    <dt>SIP server</dt><dd>{{server}}</dd>
    <dt>Port</dt><dd>{{port}}</dd>
    <dt>Transport</dt><dd>UDP</dd>
    <dt>User / extension</dt><dd>{{extension['number']}}</dd>
    <dt>Authentication user</dt><dd>{{extension['number']}}</dd>
    <dt>Secret</dt><dd><code class="secret">{{extension.get('secret', '')}}</code></dd>
    <dt>Voicemail</dt><dd>{{'yes' if extension.get('voicemail') else 'no'}}</dd>
  </dl>
  <p class="noprint"><button type="button" data-print>Print</button> <a href="/extensions">Back to extensions</a></p>
</article>
