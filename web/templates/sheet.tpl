% rebase('base.tpl')
<article class="sheet">
  <h1>{{_('Phone sheet: extension {number}', number=extension['number'])}}</h1>
  <p>{{extension.get('name', '')}}</p>
  <dl>
    <dt>{{_('SIP server')}}</dt><dd>{{server}}</dd>
    <dt>{{_('Port')}}</dt><dd>{{port}}</dd>
    <dt>{{_('Transport')}}</dt><dd>UDP</dd>
    <dt>{{_('User / extension')}}</dt><dd>{{extension['number']}}</dd>
    <dt>{{_('Authentication user')}}</dt><dd>{{extension['number']}}</dd>
    % if extension.get('secret'):
    <dt>{{_('Secret')}}</dt><dd><code class="secret">{{extension['secret']}}</code></dd>
    % else:
    <dt>{{_('Secret')}}</dt><dd>{{_('shown once, when it was made.')}} <a href="/extensions/{{extension['number']}}/edit">{{_('Make a new secret')}}</a> {{_('to set up a phone again.')}}</dd>
    % end
    <dt>{{_('Voicemail')}}</dt><dd>{{_('yes') if extension.get('voicemail') else _('no')}}</dd>
  </dl>
  <p class="noprint"><button type="button" data-print>{{_('Print')}}</button> <a href="/extensions">{{_('Back to extensions')}}</a></p>
</article>
