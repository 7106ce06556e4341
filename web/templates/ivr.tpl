% rebase('base.tpl')
<h1>{{_('IVR: call flows')}}</h1>
% if flows is None:
<p class="notice">{{_('There are no call flows yet. The')}} <a href="/wizard">{{_('set-up wizard')}}</a> {{_('makes the first ones from a template.')}}</p>
% else:
<p class="help">{{_('Version {version}, language {language}.', version=flows.get('version'), language=flows.get('language'))}} {{_('Each save sends the whole set to the core, which checks it before any call uses it.')}}</p>
% include('ivr_tree.tpl')
<section class="card narrow" aria-labelledby="h-new-node">
  <h2 id="h-new-node">{{_('Add a node')}}</h2>
  <form method="post" action="/ivr/nodes">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <label for="new-id">{{_('Id')}}</label>
    <input id="new-id" name="id" required pattern="[A-Za-z0-9_\-]{1,64}" aria-describedby="new-id-help">
    <p class="help" id="new-id-help">{{_("1-64 letters, digits, '-' or '_'. Other nodes and routes name it by this.")}}</p>
    <label for="new-kind">{{_('Kind')}}</label>
    <select id="new-kind" name="kind">
      % for k in kinds:
      <option value="{{k}}">{{_(k.replace('_', ' '))}}</option>
      % end
    </select>
    <button type="submit">{{_('Add node')}}</button>
  </form>
</section>
% end
