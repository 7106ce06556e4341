% rebase('base.tpl')
% from urllib.parse import quote
<h1>{{_('Do not call')}}</h1>
<p class="help">{{_('No campaign dials a number on this list; its entries are marked “do not call”. A callee who presses 9 on a message campaign is added at once. Numbers are compared by their last nine digits.')}}</p>
% if missing:
<p class="notice">{{missing}}</p>
% else:
<section class="card narrow" aria-labelledby="h-add-dnc">
  <h2 id="h-add-dnc">{{_('Add a number')}}</h2>
  <form method="post" action="/do-not-call">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <label for="dnc-number">{{_('Number')}}</label>
    <input id="dnc-number" name="number" type="tel" required maxlength="40" value="{{form.get('number', '')}}"{{!' aria-invalid="true" aria-describedby="form-error"' if error else ''}}>
    <label for="dnc-why">{{_('Why (optional)')}}</label>
    <input id="dnc-why" name="why" maxlength="200" value="{{form.get('why', '')}}">
    <button type="submit">{{_('Add to the list')}}</button>
  </form>
</section>
% if not numbers:
<p>{{_('The list is empty.')}}</p>
% else:
<div class="scroll">
<table class="records" id="do-not-call">
  <thead><tr><th scope="col">{{_('Number')}}</th><th scope="col">{{_('Why')}}</th><th scope="col">{{_('Added')}}</th><th scope="col">{{_('Remove')}}</th></tr></thead>
  <tbody>
  % for n in numbers:
  <tr>
    <td data-label="{{_('Number')}}">{{n.get('number', '')}}</td>
    <td data-label="{{_('Why')}}">{{n.get('why', '')}}</td>
    <td data-label="{{_('Added')}}">{{t.datetime(n.get('added')) if n.get('added') else ''}}</td>
    <td data-label="{{_('Remove')}}">
      <form method="post" action="/do-not-call/{{quote(n.get('number', ''), safe='')}}/remove" class="inline" data-confirm="{{_('Allow campaigns to call {number} again?', number=n.get('number', ''))}}">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <button type="submit" aria-label="{{_('Remove {number}', number=n.get('number', ''))}}">{{_('Remove')}}</button>
      </form>
    </td>
  </tr>
  % end
  </tbody>
</table>
</div>
% end
% end
