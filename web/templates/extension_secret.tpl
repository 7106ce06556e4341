% rebase('base.tpl')
<h1>Extension {{extension['number']}} {{what}}</h1>
<section class="card narrow secret-box" aria-labelledby="secret-title">
  <h2 id="secret-title">{{_('Secret')}}</h2>
  <p>{{_('Copy the secret into the phone now, or print the phone sheet. The list of extensions never shows it.')}}</p>
  <p><code class="secret" id="secret">{{extension['secret']}}</code></p>
  <p><a href="/extensions/{{extension['number']}}/sheet">{{_('Printable phone sheet')}}</a> · <a href="/extensions">{{_('Back to extensions')}}</a></p>
</section>
